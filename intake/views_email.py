"""The page a one-time link in an e-mail opens, where the mailbox's reader confirms they
want the notices of applications made with one mobile number (:mod:`accounts.emails`).

Opening the link changes nothing: mail scanners open links by themselves, and one must not
confirm an address its reader never saw. Only the button (a POST) confirms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from accounts import emails
from accounts.models import EmailAddress
from intake.outbox import EMAIL_CONFIRMATION_PATH
from intake.views_common import PAGES, now
from sanad.dependencies import DbSession
from sanad.mobile import masked_mobile
from web.csrf import genuine_form
from web.navigation import form_page

router = APIRouter(include_in_schema=False, route_class=PAGES.route_class)


def _page(request: Request, address: EmailAddress | None, *, confirmed: bool) -> Response:
    if address is None:
        return PAGES.error_page(request, PAGES.translator(request)("email.link_not_valid"), 404, back="/")
    values = {"email": address.email, "mobile": masked_mobile(address.mobile), "confirmed": confirmed}
    return PAGES.render(request, "email_confirm.html", values)


@router.get(EMAIL_CONFIRMATION_PATH + "/{token}")
def confirmation_page(token: str, request: Request, session: DbSession) -> Response:
    return _page(request, emails.awaiting(session, token, now()), confirmed=False)


@router.post(EMAIL_CONFIRMATION_PATH + "/{token}")
def confirm(
    token: str, request: Request, session: DbSession, _: Annotated[None, Depends(genuine_form(back=form_page))]
) -> Response:
    return _page(request, emails.confirm(session, token, now()), confirmed=True)
