"""A domain's pages: rendering in the reader's language, and every error shown as a page
in that language (never the API's JSON), with a way back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError

from sanad.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    SanadError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from sanad.i18n import LANGUAGE_NAMES, LANGUAGES
from sanad.storage import ObjectMissing
from web.cookies import settings_of
from web.csrf import FormExpired, csrf_token, keep_csrf_cookie
from web.guards import SignInRoute
from web.i18n import LANGUAGE_COOKIE, Messages, Translate, pick_language, whole_minutes
from web.templates import page_templates

log = logging.getLogger(__name__)

ERROR_TEXTS: tuple[tuple[type[SanadError], str], ...] = (
    (NotFound, "error.not_found"),
    (Gone, "error.gone"),
    (Forbidden, "error.forbidden"),
    (Unauthorized, "error.unauthorized"),
    (Conflict, "error.conflict"),
    (PayloadTooLarge, "error.too_large"),
    (UnsupportedMediaType, "error.wrong_type"),
    (InvalidInput, "error.invalid_input"),
    (BadRequest, "error.bad_request"),
    (ServiceUnavailable, "error.unavailable"),
)
"""Which text explains which error: the first class an error is an instance of names its
text. A domain words only the errors its pages can meet (a key its ``messages.yaml`` has);
any other error reads ``error.generic``."""


def language_url(request: Request, language: str) -> str:
    """This page's address in another language, keeping its filters and page."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", language)]
    return f"{request.url.path}?{urlencode(query)}"


class Pages:
    """One domain's pages. Its ``messages.yaml`` must have the ``error.*`` texts this class
    shows: ``form_expired``, ``invalid_input``, ``unavailable``, ``content_missing``,
    ``too_many`` (with ``{minutes}``) and ``generic``; and may have those of
    :data:`ERROR_TEXTS`."""

    def __init__(
        self,
        directory: Path,
        messages: Messages,
        *,
        signed_in: Callable[[Request], dict[str, Any]],
        home: Callable[[Request], str | None],
    ) -> None:
        self.templates = page_templates(directory)
        self.messages = messages
        self.signed_in = signed_in
        """What the navigation shows of whoever is signed in, as template values."""
        self.home = home
        """Where an error page leads back to when the handler names no page."""
        self.route_class = self._page_route_class()
        """The route class of the domain's page routers (``APIRouter(route_class=...)``)."""

    def translator(self, request: Request) -> Translate:
        """The domain's texts in the reader's language."""
        return self.messages.translator(pick_language(request))

    def render(self, request: Request, template: str, values: dict[str, Any], *, status_code: int = 200) -> Response:
        """A page in the reader's language, with what every page shares: the navigation of
        whoever is signed in, the CSRF token and the links to the other languages."""
        language = pick_language(request)
        context = {
            "lang": language,
            "t": self.messages.translator(language),
            "languages": [(code, LANGUAGE_NAMES[code], language_url(request, code)) for code in LANGUAGES],
            "csrf": csrf_token(request),
            "path": request.url.path,
            **self.signed_in(request),
            **values,
        }
        response = self.templates.TemplateResponse(request, template, context, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        keep_csrf_cookie(request, response)
        if request.query_params.get("lang") in LANGUAGES:
            secure = settings_of(request).secure_cookies
            response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", secure=secure)
        return response

    def error_page(
        self, request: Request, message: str, status_code: int, *, heading: str | None = None, back: str | None = None
    ) -> Response:
        """A page saying what went wrong and where to go next."""
        response = self.render(
            request,
            "error.html",
            {
                "message": message,
                "heading": heading,
                "back": self.home(request) if back is None else back,
                "status_code": status_code,
            },
            status_code=status_code,
        )
        if status_code == 503:
            response.headers["Retry-After"] = str(ServiceUnavailable.retry_after_seconds)
        return response

    def form_expired(self, request: Request, back: str) -> Response:
        """A form without its CSRF token (or with a stale one): nothing was done."""
        return self.error_page(request, self.translator(request)("error.form_expired"), 400, back=back)

    def domain_error_page(self, request: Request, error: SanadError) -> Response:
        t = self.translator(request)
        if isinstance(error, TooManyRequests):
            message = t("error.too_many", minutes=whole_minutes(error.retry_after_seconds))
        else:
            key = next((key for kind, key in ERROR_TEXTS if isinstance(error, kind)), None)
            message = t(key if key in self.messages.table else "error.generic")
        return self.error_page(request, message, error.status_code)

    def _page_route_class(self) -> type[APIRoute]:
        """A route class whose errors become pages in the reader's language.

        The app's handlers answer JSON, which is right for the API; a citizen who follows a
        stale link or submits a bad form should instead read what happened and where to go.
        """
        pages = self

        class PageRoute(SignInRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handle = super().get_route_handler()

                async def handle_page(request: Request) -> Response:
                    try:
                        return await handle(request)
                    except FormExpired as e:
                        return pages.form_expired(request, e.back)
                    except SanadError as e:
                        return pages.domain_error_page(request, e)
                    except RequestValidationError:
                        return pages.error_page(request, pages.translator(request)("error.invalid_input"), 422)
                    except OperationalError as e:
                        log.warning("database unavailable: %s", e.orig)
                        return pages.error_page(request, pages.translator(request)("error.unavailable"), 503)
                    except ObjectMissing as e:
                        log.error("a row without its object: %s", e)
                        return pages.error_page(request, pages.translator(request)("error.content_missing"), 500)

                return handle_page

        return PageRoute
