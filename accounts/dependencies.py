"""Who is signed in to the pages, from their session cookies (None: nobody)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from accounts import citizens, staff
from accounts.cookies import CITIZEN_COOKIE, STAFF_COOKIE
from accounts.models import LockerAccount
from accounts.staff import StaffMember
from sanad.dependencies import DbSession


def get_page_citizen(request: Request, session: DbSession) -> LockerAccount | None:
    token = CITIZEN_COOKIE.read(request)
    return None if token is None else citizens.account_for_token(session, token, datetime.now(UTC))


def get_page_staff(request: Request, session: DbSession) -> StaffMember | None:
    token = STAFF_COOKIE.read(request)
    return None if token is None else staff.member_for_token(session, token, datetime.now(UTC))


PageCitizen = Annotated[LockerAccount | None, Depends(get_page_citizen)]
PageStaff = Annotated[StaffMember | None, Depends(get_page_staff)]
