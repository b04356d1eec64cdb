"""What every request leaves behind: an id, a latency observation and one access line.

One pure ASGI middleware, outermost, so it sees every answer (refusals of the request
guard included):

- takes the request id from a well-formed ``X-Request-ID`` (a proxy's or the client's)
  or makes one, returns it in ``X-Request-ID`` and puts it in a context variable that
  every log line written for the request carries (``sanad.logs``);
- observes the request's duration in ``sanad_http_request_duration_seconds`` under the
  matched route's template, so ``/v/ABC`` and ``/v/XYZ`` are one series;
- writes the access line (method, route, status, duration), with no query string: a
  query may carry a mobile number or a token.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanad.logs import CLEAN_FIELD, CURRENT_REQUEST, DURATION_FIELD, STATUS_FIELD, RequestLog, route_template
from sanad.metrics import HTTP_REQUEST_SECONDS

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
# Ids a proxy or client may choose: UUIDs, hex, ULIDs. Anything else (too long, spaces,
# control characters that could forge a log line) is replaced by one of ours.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
#: The route label of a request no route matched (a 404 at any path is one series).
UNMATCHED = "unmatched"
# Any other method is one label: a client must not mint series by inventing methods.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = logging.getLogger("sanad.access")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_KEY:
            candidate: str = value.decode("latin-1")
            if _VALID_ID.fullmatch(candidate):
                return candidate
            break
    return secrets.token_hex(16)


def route_label(scope: MutableMapping[str, Any]) -> str:
    template = route_template(scope)
    if template is not None:
        return template
    if scope.get("endpoint") is not None:  # a mounted app (static files): one series per mount
        return f"{scope.get('root_path', '')!s}/{{path}}"
    return UNMATCHED


class Observe:
    """Request id, latency histogram and access line for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = RequestLog(request_id_from(scope), scope["method"], scope)
        token = CURRENT_REQUEST.set(request)
        status = 500  # unless an answer starts: an exception escaping the app is a 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_label(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            HTTP_REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
            # Made of a known method, a route template and a number: nothing to scrub.
            access_log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={STATUS_FIELD: status, DURATION_FIELD: round(seconds * 1000, 2), CLEAN_FIELD: True},
            )
            CURRENT_REQUEST.reset(token)
