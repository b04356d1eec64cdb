"""What the locker's pages share beyond ``web``: the signed-in holder, domain errors shown
as pages in the reader's language (never the API's JSON), and small display helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from locker.dependencies import page_holder
from locker.holder import Holder
from locker.i18n import pick_language, translator
from locker.web import render
from sanad.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SanadError,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMediaType,
)
from sanad.storage import ObjectMissing

log = logging.getLogger(__name__)

# Most specific first: the first class the error is an instance of names its text.
_ERROR_TEXTS: tuple[tuple[type[SanadError], str], ...] = (
    (NotFound, "error.not_found"),
    (Gone, "error.gone"),
    (PayloadTooLarge, "error.too_large"),
    (UnsupportedMediaType, "error.wrong_type"),
    (InvalidInput, "error.invalid_input"),
    (Conflict, "error.conflict"),
    (ServiceUnavailable, "error.unavailable"),
)


def signed_in(request: Request, session: Session) -> Holder | None:
    """The page's citizen, remembered for the error page's navigation bar."""
    holder = page_holder(request, session)
    request.state.holder = holder
    return holder


def error_page(
    request: Request, message: str, status_code: int, *, heading: str | None = None, back: str | None = None
) -> Response:
    """A page explaining what went wrong, with the navigation bar for a signed-in citizen."""
    holder: Holder | None = getattr(request.state, "holder", None)
    if back is None and holder is not None:
        back = "/locker/documents"
    response = render(
        request,
        "error.html",
        {"message": message, "heading": heading, "back": back, "status_code": status_code},
        holder=holder,
        status_code=status_code,
    )
    if status_code == 503:
        response.headers["Retry-After"] = str(ServiceUnavailable.retry_after_seconds)
    return response


def domain_error_page(request: Request, error: SanadError) -> Response:
    t = translator(pick_language(request))
    if isinstance(error, TooManyRequests):
        message = t("error.too_many", minutes=max(1, -(-error.retry_after_seconds // 60)))
    else:
        key = next((key for kind, key in _ERROR_TEXTS if isinstance(error, kind)), "error.generic")
        message = t(key)
    return error_page(request, message, error.status_code)


def page_route_class(
    translate: Callable[[str], Callable[..., str]],
    error_page: Callable[[Request, str, int], Response],
    domain_error_page: Callable[[Request, SanadError], Response],
) -> type[APIRoute]:
    """A route class whose errors become a page in the reader's language.

    The app's handlers answer JSON, which is right for the API; a citizen who follows a
    stale link or submits a bad form should instead read what happened and where to go.
    Each domain passes its own messages and error pages.
    """

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def handle_page(request: Request) -> Response:
                t = translate(pick_language(request))
                try:
                    return await handle(request)
                except SanadError as e:
                    return domain_error_page(request, e)
                except RequestValidationError:
                    return error_page(request, t("error.invalid_input"), 422)
                except OperationalError as e:
                    log.warning("database unavailable: %s", e.orig)
                    return error_page(request, t("error.unavailable"), 503)
                except ObjectMissing as e:
                    log.error("a row without its object: %s", e)
                    return error_page(request, t("error.content_missing"), 500)

            return handle_page

    return PageRoute


PageRoute = page_route_class(translator, lambda r, m, s: error_page(r, m, s), domain_error_page)


def localized(text: Any, language: str) -> str:
    """One language of a ``LocalizedText`` (or the API's ``Localized``)."""
    return str(getattr(text, language) or text.en)


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("UCBrowser/", "UC Browser"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def short_agent(user_agent: str) -> str:
    """``Chrome · Android`` instead of a 150-character user agent; unknown ones are cut short."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser:
        return f"{browser} · {system}" if system else browser
    return user_agent if len(user_agent) <= 40 else user_agent[:40] + "…"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
