"""What every intake page shares: rendering in the reader's language, who is signed in
(a citizen through the locker's cookie, staff through the desk's), and domain errors
shown as pages rather than the API's JSON.

CSRF works as on the locker's pages (the same double-submit cookie, so one token serves
both): every form carries a token that must match the cookie, and both session cookies
are SameSite=Lax.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext
from sqlalchemy.orm import Session

from intake.i18n import pick_language, translator
from intake.staff import SESSION_LIFETIME, StaffMember, member_for_token
from locker.holder import Holder
from locker.views_common import page_route_class, signed_in
from locker.web import render_page
from locker.web import templates as locker_templates
from sanad.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SanadError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from sanad.settings import Settings

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=Path(__file__).parent / "pages")
# Dates read the same on every page: the locker's filters (India time, translated months).
for _name in ("india_date", "india_time", "masked_mobile"):
    templates.env.filters[_name] = locker_templates.env.filters[_name]


@pass_context
def _in_language(page: TemplateContext, text: Any) -> str:
    """``{{ service.name | loc }}``: the page's language of a catalogue text."""
    return localized(text, page.get("lang", "en"))


templates.env.filters["loc"] = _in_language


def localized(text: Any, language: str) -> str:
    """One language of a ``LocalizedText``, English when that one is empty."""
    return str(getattr(text, language, None) or text.en)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.context.settings
    return settings


def now() -> datetime:
    return datetime.now(UTC)


# --- who is asking -------------------------------------------------------------------------------


def citizen(request: Request, session: Session) -> Holder | None:
    """The citizen signed in to the locker (its cookie), remembered for the navigation."""
    return signed_in(request, session)


def desk_cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure and host-only.
    return "__Host-sanad_desk" if settings.secure_cookies else "sanad_desk"


def desk_token(request: Request) -> str | None:
    return request.cookies.get(desk_cookie_name(_settings(request)))


def desk_member(request: Request, session: Session) -> StaffMember | None:
    """The staff member signed in through the desk's cookie, remembered for the navigation."""
    token = desk_token(request)
    member = member_for_token(session, token, now()) if token else None
    request.state.member = member
    return member


def set_desk_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        desk_cookie_name(settings),
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_desk_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(desk_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True)


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def desk_sign_in_redirect(request: Request, target: str | None = None) -> RedirectResponse:
    """To the desk's sign-in, then back to ``target`` (default: this page)."""
    return RedirectResponse(f"/desk/sign-in?next={quote(target or here(request), safe='')}", status_code=303)


# --- rendering -------------------------------------------------------------------------------------


def render(request: Request, template: str, values: dict[str, Any], *, status_code: int = 200) -> Response:
    """A page in the reader's language, with the navigation of whoever is signed in."""
    signed_in = {"holder": getattr(request.state, "holder", None), "member": getattr(request.state, "member", None)}
    return render_page(request, templates, translator, template, {**signed_in, **values}, status_code=status_code)


def error_page(
    request: Request, message: str, status_code: int, *, heading: str | None = None, back: str | None = None
) -> Response:
    """A page saying what went wrong and where to go next."""
    if back is None:
        if getattr(request.state, "member", None) is not None:
            back = "/desk"
        elif getattr(request.state, "holder", None) is not None:
            back = "/applications"
    response = render(
        request,
        "error.html",
        {"message": message, "heading": heading, "back": back, "status_code": status_code},
        status_code=status_code,
    )
    if status_code == 503:
        response.headers["Retry-After"] = str(ServiceUnavailable.retry_after_seconds)
    return response


def form_expired(request: Request, back: str | None = None) -> Response:
    """A form without its CSRF token (or with a stale one): nothing was done."""
    return error_page(request, translator(pick_language(request))("error.form_expired"), 400, back=back)


def minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


# Most specific first: the first class the error is an instance of names its text.
_ERROR_TEXTS: tuple[tuple[type[SanadError], str], ...] = (
    (NotFound, "error.not_found"),
    (Forbidden, "error.forbidden"),
    (Unauthorized, "error.unauthorized"),
    (Conflict, "error.conflict"),
    (PayloadTooLarge, "error.too_large"),
    (UnsupportedMediaType, "error.wrong_type"),
    (InvalidInput, "error.invalid_input"),
    (BadRequest, "error.bad_request"),
    (ServiceUnavailable, "error.unavailable"),
)


def domain_error_page(request: Request, error: SanadError) -> Response:
    t = translator(pick_language(request))
    if isinstance(error, TooManyRequests):
        message = t("error.too_many", minutes=minutes(error.retry_after_seconds))
    else:
        message = t(next((key for kind, key in _ERROR_TEXTS if isinstance(error, kind)), "error.generic"))
    return error_page(request, message, error.status_code)


PageRoute = page_route_class(translator, lambda r, m, s: error_page(r, m, s), domain_error_page)
