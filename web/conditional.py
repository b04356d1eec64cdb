"""Conditional GET: an ``ETag`` on public answers and ``304 Not Modified`` when the
client already holds the same bytes (RFC 9110 §8.8.3, §13.1.2).

The tag is a hash of the answer's body, so it changes whenever anything shown changes:
a revoked document's page reads "revoked", and so has another tag. It is weak
(``W/``) because the compression layer may re-encode the bytes on the way out; a weak tag
still says "the same content", which is all a 304 needs.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

#: Shared caches may keep it, but must ask us (with the tag) before every reuse: a
#: revocation then shows at the next request, and the answer to an unchanged page is a
#: 304 with no body.
REVALIDATE_EVERY_TIME = "public, no-cache"

# What a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
_KEPT_ON_NOT_MODIFIED = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def weak_etag(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison) or is ``*``."""
    if not if_none_match:
        return False
    wanted = _opaque(etag)
    return any(tag.strip() == "*" or _opaque(tag) == wanted for tag in if_none_match.split(","))


def revalidated(
    request: Request, response: Response, *, cache_control: str = REVALIDATE_EVERY_TIME, etag: str | None = None
) -> Response:
    """``response`` with its ``ETag`` and ``Cache-Control``, or a bodiless 304 in its place
    when the client's copy is current. Only a successful answer gets a tag: an unknown
    document's 404 is never stored, so it tells a cache nothing about which ids exist.
    ``etag``: the tag of the uncompressed body, when the body is already compressed."""
    if response.status_code != 200:
        response.headers["Cache-Control"] = "no-store"
        return response
    etag = etag or weak_etag(bytes(response.body))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    if not none_match(request.headers.get("if-none-match"), etag):
        return response
    kept = {name: value for name, value in response.headers.items() if name in _KEPT_ON_NOT_MODIFIED}
    return Response(status_code=304, headers=kept)
