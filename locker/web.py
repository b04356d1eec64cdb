"""What every locker page shares: language, the signed-in holder, CSRF and rendering.

Forms are protected twice: the session cookie is SameSite=Lax (no cross-site POSTs carry
it) and every form carries a token that must match a cookie (double submit), which also
covers the sign-in forms used before any session exists.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext

from locker.dependencies import session_cookie_name
from locker.holder import Holder
from locker.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, pick_language, translator
from sanad.clock import IST
from sanad.mobile import masked_mobile
from sanad.settings import Settings

templates = Jinja2Templates(directory=Path(__file__).parent / "pages")


def _day_in_language(day: date, language: str) -> str:
    """``24 Nov 2025`` in English, ``24 ਨਵੰਬਰ 2025`` in Punjabi: month names are translated."""
    months = translator(language)("date.months").split()
    return f"{day.day:02d} {months[day.month - 1]} {day.year}"


@pass_context
def _india_date(page: TemplateContext, moment: date) -> str:
    day = moment.astimezone(IST).date() if isinstance(moment, datetime) else moment
    return _day_in_language(day, page.get("lang", "en"))


@pass_context
def _india_time(page: TemplateContext, moment: datetime) -> str:
    local = moment.astimezone(IST)
    return f"{_day_in_language(local.date(), page.get('lang', 'en'))}, {local:%H:%M} IST"


templates.env.filters["india_date"] = _india_date
templates.env.filters["india_time"] = _india_time
templates.env.filters["masked_mobile"] = masked_mobile


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.context.settings
    return settings


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-sanad_csrf" if settings.secure_cookies else "sanad_csrf"


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one that ``render`` will set."""
    token = request.cookies.get(csrf_cookie_name(_settings(request))) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(csrf_cookie_name(_settings(request)))
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))


def safe_next(target: str | None, default: str = "/locker/documents") -> str:
    """Only a path on this site: never another host, scheme or protocol-relative URL."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _with_language(request: Request, language: str) -> str:
    """This page's URL in another language, keeping its filters and page."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", language)]
    return f"{request.url.path}?{urlencode(query)}"


def render_page(
    request: Request,
    pages: Jinja2Templates,
    translate: Callable[[str], Callable[..., str]],
    template: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A page in the reader's language with the CSRF token and language links every page
    shares; ``pages`` and ``translate`` are the domain's templates and message table."""
    language = pick_language(request)
    settings = _settings(request)
    context = {
        "lang": language,
        "t": translate(language),
        "languages": [(code, LANGUAGE_NAMES[code], _with_language(request, code)) for code in LANGUAGES],
        "csrf": csrf_token(request),
        "path": request.url.path,
        **values,
    }
    response = pages.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf:
        response.set_cookie(
            csrf_cookie_name(settings), new_csrf, httponly=True, secure=settings.secure_cookies, samesite="lax"
        )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies
        )
    return response


def render(
    request: Request, template: str, values: dict[str, Any], *, holder: Holder | None = None, status_code: int = 200
) -> Response:
    return render_page(request, templates, translator, template, {"holder": holder, **values}, status_code=status_code)


def sign_in_redirect(request: Request, target: str | None = None) -> RedirectResponse:
    """To the sign-in page, then back to ``target`` (default: this page). Forms pass the
    page they were on, since the sign-in ends with a GET of ``next``."""
    target = target or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/locker/sign-in?next={quote(target, safe='')}", status_code=303)


def set_session_cookie(response: Response, settings: Settings, token: str, max_age: int) -> None:
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=max_age,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(session_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True)
