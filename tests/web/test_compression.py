"""The compression layer (web/compression.py): a body the handler already compressed
goes out as it is, and a kept body is compressed once per coding."""

from __future__ import annotations

import gzip
import hashlib

import brotli
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from web import compression
from web.compression import KeptBody, chosen_coding
from web.conditional import weak_etag

# Hex digits: compressed, still well above the size worth compressing, so compressing
# twice would show.
PAGE = ("<p>" + "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100)) + "</p>").encode()


def _served(body: KeptBody) -> TestClient:
    """An app behind the compression layer that sends ``body`` as the client takes it."""

    async def kept(request: Request) -> Response:
        content, coding = body.as_sent(request.headers.get("accept-encoding", ""))
        headers = {"Content-Encoding": coding} if coding else {}
        return Response(content, media_type="text/html", headers=headers)

    app = Starlette(routes=[Route("/kept", kept)])
    return TestClient(compression.CompressAnswers(app))


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_a_body_already_compressed_goes_out_as_it_is(coding: str) -> None:
    body = KeptBody(PAGE)
    client = _served(body)

    with client.stream("GET", "/kept", headers={"Accept-Encoding": coding}) as answer:
        raw = b"".join(answer.iter_raw())

    assert answer.headers["content-encoding"] == coding  # once, not "br, br"
    assert raw == body.as_sent(coding)[0]
    assert len(raw) >= compression.MINIMUM_SIZE
    assert answer.headers["content-length"] == str(len(raw))
    assert answer.headers["vary"] == "Accept-Encoding"
    assert (brotli.decompress(raw) if coding == "br" else gzip.decompress(raw)) == PAGE


def test_a_kept_body_is_compressed_once_per_coding(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    encode = compression.encode

    def counting_encode(coding: str, body: bytes) -> bytes:
        made.append(coding)
        return encode(coding, body)

    monkeypatch.setattr(compression, "encode", counting_encode)
    body = KeptBody(PAGE)

    sent = [body.as_sent(accept) for accept in ("br, gzip", "gzip", "br", "identity", "gzip;q=1, br;q=0", "")]

    assert made == ["br", "gzip"]
    assert [coding for _, coding in sent] == ["br", "gzip", "br", None, "gzip", None]
    assert brotli.decompress(sent[0][0]) == PAGE
    assert sent[3][0] is PAGE
    assert body.etag == weak_etag(PAGE)
    assert body.size == len(PAGE) + len(sent[0][0]) + len(sent[1][0])


def test_a_small_kept_body_is_never_compressed() -> None:
    small = KeptBody(b"{}")

    assert small.as_sent("br, gzip") == (b"{}", None)
    assert small.size == 2


def test_the_coding_of_a_header_is_worked_out_once() -> None:
    chosen_coding.cache_clear()

    for _ in range(3):
        chosen_coding("gzip, deflate, br, zstd")

    assert chosen_coding.cache_info().hits == 2
