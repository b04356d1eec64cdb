"""Compressing answers where it pays: text of some size (pages, JSON, PEM), sent whole,
with brotli when the client takes it and gzip otherwise.

Left alone: answers sent in parts (a PDF or an upload streamed from storage, already
compressed inside), small answers (a 404's JSON gains nothing and costs CPU), anything
already encoded, and every type not listed as text. The cost is measured in
bench/RESULTS.md: brotli at quality 4 on a 10 KB page is ~0.1 ms.

An answer sent again and again (the QR target's kept pages) is a ``KeptBody``: its tag
and each compressed form are made on first ask, and the handler sends the form itself
with its ``Content-Encoding``, which the middleware then passes through.
"""

from __future__ import annotations

import functools
import gzip

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.conditional import weak_etag

#: Below this many bytes an answer goes out as it is.
MINIMUM_SIZE = 1024
BROTLI_QUALITY = 4  # of 11: most of the gain for a tenth of the CPU of the top levels
GZIP_LEVEL = 6

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/jwk-set+json",
        "application/x-pem-file",
        "application/xml",
        "image/svg+xml",
    }
)


def compressible(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith("+json")


@functools.lru_cache(maxsize=64)  # clients send a handful of spellings, over and over
def chosen_coding(accept_encoding: str) -> str | None:
    """``br``, ``gzip`` or None, from the request's ``Accept-Encoding`` (q=0 refuses)."""
    accepted: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _, parameters = item.strip().partition(";")
        quality = 1.0
        parameter = parameters.strip()
        if parameter.startswith("q="):
            try:
                quality = float(parameter[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip()] = quality
    for coding in ("br", "gzip"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def encode(coding: str, body: bytes) -> bytes:
    if coding == "br":
        compressed: bytes = brotli.compress(body, quality=BROTLI_QUALITY)
        return compressed
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


class KeptBody:
    """A whole 200 answer's body that is sent many times: its weak tag (of these bytes,
    the same for every coding, as the middleware's tags are) and the forms clients asked
    for, each made on first ask. Filled by the one event loop that serves it; two threads
    racing to make the same form would only make it twice."""

    __slots__ = ("_etag", "_forms", "identity")

    def __init__(self, identity: bytes) -> None:
        self.identity = identity
        self._etag: str | None = None
        self._forms: dict[str, bytes] = {}

    @property
    def etag(self) -> str:
        if self._etag is None:
            self._etag = weak_etag(self.identity)
        return self._etag

    def as_sent(self, accept_encoding: str) -> tuple[bytes, str | None]:
        """The bytes to send a client that says ``accept_encoding``, and their coding
        (None: as they are). The middleware's rules: brotli or gzip from 1 KB."""
        coding = chosen_coding(accept_encoding) if len(self.identity) >= MINIMUM_SIZE else None
        if coding is None:
            return self.identity, None
        form = self._forms.get(coding)
        if form is None:
            form = self._forms[coding] = encode(coding, self.identity)
        return form, coding

    @property
    def size(self) -> int:
        """The bytes held: the body and every form made so far."""
        return len(self.identity) + sum(len(form) for form in self._forms.values())


class CompressAnswers:
    """ASGI middleware: holds an answer's start until its first body part shows whether
    the answer is whole, then compresses it or passes it through unchanged."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = chosen_coding(Headers(scope=scope).get("accept-encoding", ""))
        held: Message | None = None

        async def send_answer(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                held = message
                return
            if held is None:
                await send(message)
                return
            start, held = held, None
            if message["type"] == "http.response.body":
                message = self._maybe_compressed(start, message, coding)
            await send(start)
            await send(message)

        await self.app(scope, receive, send_answer)

    def _maybe_compressed(self, start: Message, message: Message, coding: str | None) -> Message:
        headers = MutableHeaders(raw=start["headers"])
        if not compressible(headers.get("content-type", "")):
            return message
        # Whether compressed or not, a cache must not hand this answer to a client that
        # asked with another Accept-Encoding.
        headers.add_vary_header("Accept-Encoding")
        body: bytes = message.get("body", b"")
        if (
            coding is None
            or message.get("more_body", False)
            or len(body) < self.minimum_size
            or "content-encoding" in headers
            or start["status"] != 200
        ):
            return message
        compressed = encode(coding, body)
        headers["Content-Encoding"] = coding
        headers["Content-Length"] = str(len(compressed))
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):
            # A strong tag names exact bytes, and these are other bytes.
            headers["ETag"] = "W/" + etag
        return {**message, "body": compressed}
