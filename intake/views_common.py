"""What every intake page shares beyond :mod:`web`: its templates and texts, how errors read
on them, and who is signed in: a citizen through the locker's session cookie, staff
through the desk's (both kept by :mod:`accounts`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from accounts.dependencies import PageCitizen, PageStaff
from accounts.models import LockerAccount
from accounts.staff import StaffMember
from intake.i18n import MESSAGES
from web.guards import SignIn
from web.pages import Pages


def now() -> datetime:
    return datetime.now(UTC)


# --- who is asking -------------------------------------------------------------------------------


def get_page_citizen(request: Request, account: PageCitizen) -> LockerAccount | None:
    """The citizen signed in to the locker, remembered for the navigation."""
    request.state.holder = account
    return account


def get_desk_member(request: Request, member: PageStaff) -> StaffMember | None:
    """The staff member signed in to the desk, remembered for the navigation."""
    request.state.member = member
    return member


MaybeCitizen = Annotated[LockerAccount | None, Depends(get_page_citizen)]
"""Whoever is signed in to the locker, on a page anyone may see."""
CITIZEN = SignIn(who=get_page_citizen, page="/locker/sign-in")
"""Citizens sign in with the locker's one-time code."""
SignedInCitizen = Annotated[LockerAccount, Depends(CITIZEN.required())]
"""The signed-in citizen; nobody signed in: to sign in, and back to this page."""

MaybeMember = Annotated[StaffMember | None, Depends(get_desk_member)]
"""Whoever is signed in to the desk, on a page that is not only for staff."""
DESK = SignIn(who=get_desk_member, page="/desk/sign-in")
"""Staff sign in to the desk with a password (:mod:`intake.views_desk`)."""
SignedInMember = Annotated[StaffMember, Depends(DESK.required())]
"""The signed-in staff member; nobody signed in: to sign in, and back to this page."""


# --- rendering -------------------------------------------------------------------------------------


def _signed_in(request: Request) -> dict[str, Any]:
    return {"holder": getattr(request.state, "holder", None), "member": getattr(request.state, "member", None)}


def _home(request: Request) -> str | None:
    if getattr(request.state, "member", None) is not None:
        return "/desk"
    if getattr(request.state, "holder", None) is not None:
        return "/applications"
    return None


PAGES = Pages(Path(__file__).parent / "pages", MESSAGES, signed_in=_signed_in, home=_home)
"""The intake pages: ``PAGES.render``, ``PAGES.error_page``, and ``PAGES.route_class`` for
their routers, so errors are pages."""
