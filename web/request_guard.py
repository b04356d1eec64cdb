"""Bounded work per request, and the headers every answer carries.

One pure ASGI middleware (a ``BaseHTTPMiddleware`` would cost a task hop on every
request) that, before any handler runs:

- refuses a body whose ``Content-Length`` is over its limit without reading it, and
  counts the bytes of every body as they arrive, so a chunked body is held to the same
  limit (413);
- reads a JSON body (small by nature) in full and refuses one with more members or
  deeper nesting than the limits, or with a lone surrogate that is not text (422), so
  that validation, and the list of errors it would answer with, stays small: a million
  unknown keys once stalled the event loop for 14 s and produced a 66 MB answer;
- gives up on a body whose next piece does not arrive in time (408);
- adds the security headers, and the page content policy to HTML answers.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sanad.text import has_lone_surrogate
from web.refusal_page import refusal_page, wants_page
from web.security import PAGE_CSP, SECURITY_HEADERS

#: Bodies larger than this are checked off the event loop.
_CHECK_IN_THREAD_BYTES = 64 * 1024
#: Multipart framing around an upload of the largest allowed size.
MULTIPART_SLACK_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """How much one request may ask of the server (from the ``SANAD_MAX_*`` settings)."""

    max_body_bytes: int
    """Any body, uploads included."""
    max_json_bytes: int
    """An ``application/json`` body."""
    max_form_bytes: int
    """An ``application/x-www-form-urlencoded`` body."""
    max_json_members: int
    """Object members plus array items in a JSON body."""
    max_json_depth: int
    """Nesting of objects and arrays in a JSON body."""
    read_timeout_seconds: float
    """Longest wait for the next piece of a body."""

    def for_content_type(self, content_type: str) -> int:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/json" or media_type.endswith("+json"):
            return self.max_json_bytes
        if media_type == "application/x-www-form-urlencoded":
            return self.max_form_bytes
        return self.max_body_bytes


def _size(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"


class TooLarge(HTTPException):
    """413, remembering the limit, which the page for a person names."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {_size(limit)} limit")
        self.limit = limit


def too_large(limit: int) -> HTTPException:
    return TooLarge(limit)


def too_slow() -> HTTPException:
    return HTTPException(408, "the request body arrived too slowly; send it again")


def json_shape_problem(body: bytes, limits: BodyLimits) -> str | None:
    """Why a JSON body is too big in shape, or None. Malformed JSON is left to the
    handler, which reports where it breaks."""
    try:
        document = json.loads(body)
    except RecursionError:
        return f"the JSON body is nested deeper than {limits.max_json_depth} levels"
    except UnicodeDecodeError:
        return "the JSON body is not UTF-8 text"
    except ValueError:
        return None
    members = 0
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str) and has_lone_surrogate(value):
            # "\ud800" is valid JSON but not text: it cannot even be stored as UTF-8.
            return "the JSON body contains a lone surrogate (\\ud800-\\udfff), which is not text"
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
        if isinstance(value, dict | list):
            if depth > limits.max_json_depth:
                return f"the JSON body is nested deeper than {limits.max_json_depth} levels"
            children = value.values() if isinstance(value, dict) else value
            members += len(value)
            if members > limits.max_json_members:
                return f"the JSON body has more than {limits.max_json_members} members"
            pending.extend((child, depth + 1) for child in children)
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope, send)
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        limit = self.limits.for_content_type(content_type)
        if limit == self.limits.max_body_bytes:
            limit += MULTIPART_SLACK_BYTES
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _answer(too_large(limit), scope, receive, send)
            return
        if limit == self.limits.max_json_bytes and scope["method"] not in ("GET", "HEAD"):
            try:
                body = await _read_body(receive, limit, self.limits.read_timeout_seconds)
            except HTTPException as refusal:
                await _answer(refusal, scope, receive, send)
                return
            if len(body) > _CHECK_IN_THREAD_BYTES:
                problem = await anyio.to_thread.run_sync(json_shape_problem, body, self.limits)
            else:
                problem = json_shape_problem(body, self.limits)
            if problem:
                await _answer(HTTPException(422, problem), scope, receive, send)
                return
            receive = _replay(body)
        else:
            receive = _counted(receive, limit, self.limits.read_timeout_seconds)
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, limit: int, timeout: float) -> bytes:
    counted = _counted(receive, limit, timeout)
    chunks: list[bytes] = []
    while True:
        message = await counted()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _counted(receive: Receive, limit: int, timeout: float) -> Receive:
    """``receive`` that refuses (413) once the body passes ``limit`` bytes, and gives up
    (408) when the next piece takes longer than ``timeout``. Raised inside the handler's
    body parsing, FastAPI passes the HTTPException on to the app's handler."""
    received = 0

    async def receive_counted() -> Message:
        nonlocal received
        with anyio.move_on_after(timeout) as waiting:
            message = await receive()
        if waiting.cancelled_caught:
            raise too_slow()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit)
        return message

    return receive_counted


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive_replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, the only thing left to hear about is the client going away.
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    return receive_replayed


async def _answer(refusal: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    # The client may still be sending: close the connection rather than read the rest.
    response: Response
    if refusal.status_code in (408, 413) and wants_page(scope):
        size = _size(refusal.limit) if isinstance(refusal, TooLarge) else ""
        response = HTMLResponse(
            refusal_page(Request(scope), refusal.status_code, size),
            refusal.status_code,
            headers={"Connection": "close"},
        )
    else:
        codes = {408: "request_timeout", 413: "payload_too_large", 422: "invalid_input"}
        body: dict[str, Any] = {"error": codes.get(refusal.status_code, "bad_request"), "detail": refusal.detail}
        if refusal.status_code == 422:  # every 422 names its fields; here, the body as a whole
            body["fields"] = [{"field": "body", "message": refusal.detail}]
        response = JSONResponse(body, refusal.status_code, headers={"Connection": "close"})
    await response(scope, receive, send)


def _with_security_headers(scope: Scope, send: Send) -> Send:
    is_docs = scope["path"] == "/docs"

    async def send_with_headers(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            # An answer may let our own pages frame it (an attachment's preview); nothing else.
            framing = headers.get("X-Frame-Options")
            for name, value in SECURITY_HEADERS.items():
                headers[name] = value
            if framing == "SAMEORIGIN":
                headers["X-Frame-Options"] = framing
            # A page may set a stricter or wider policy of its own (the consent page must
            # let its form redirect to the requester).
            if headers.get("content-type", "").startswith("text/html") and not is_docs:
                headers.setdefault("Content-Security-Policy", PAGE_CSP)
        await send(message)

    return send_with_headers
