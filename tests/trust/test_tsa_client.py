"""The timestamp client against a TSA stand-in that counts connections and can misbehave:
kept-alive connections, a server that drops them, forked children, timeouts, a proxy the
environment names, and replies that must be refused (wrong type, too big, unreadable,
tampered tokens)."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from asn1crypto import cms, tsp
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from tests.conftest import PKI_EPOCH
from trust.bootstrap import init_pki
from trust.http_connections import POOL
from trust.responder import PkiFiles
from trust.tsa import TimeStampResponse
from trust.tsa_client import REPLY_TYPE, HttpTimeStamper

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DIGEST = hashlib.sha256(b"the document").digest()

Answer = Callable[[bytes], tuple[int, str, bytes]]


class StandInTsa(ThreadingHTTPServer):
    """An HTTP/1.1 keep-alive server answering timestamp queries from a development PKI."""

    daemon_threads = True

    def __init__(self, keys_dir: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = PkiFiles(now=lambda: NOW)
        self.keys_dir = keys_dir
        self.connections = 0
        self.requests = 0
        self.delay = 0.0
        # Closes the connection after each reply without saying so, like a server whose
        # keep-alive period ran out between two requests.
        self.drop_after_reply = False
        self.answer: Answer = self.granted

    def granted(self, query: bytes) -> tuple[int, str, bytes]:
        return 200, REPLY_TYPE, self.files.timestamp(self.keys_dir, query)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/tsa"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out leaves a broken pipe behind; expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInTsa

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        query = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests += 1
        time.sleep(self.server.delay)
        status, content_type, body = self.server.answer(query)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.server.drop_after_reply

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keys_dir = tmp_path_factory.mktemp("tsa-client-pki")
    init_pki(keys_dir, now=PKI_EPOCH)
    return keys_dir


@pytest.fixture
def tsa(pki: Path) -> Iterator[StandInTsa]:
    server = StandInTsa(pki)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    POOL.close_idle()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def stamp(url: str, timeout: float = 10.0, digest: bytes = DIGEST) -> cms.ContentInfo:
    return asyncio.run(HttpTimeStamper(url, timeout=timeout).async_timestamp(digest, "sha256"))


def imprinted(token: cms.ContentInfo) -> bytes:
    digest: bytes = token["content"]["encap_content_info"]["content"].parsed["message_imprint"]["hashed_message"].native
    return digest


# --- keep-alive ------------------------------------------------------------------------------


def test_one_connection_serves_many_timestamps(tsa: StandInTsa) -> None:
    for n in range(5):
        digest = hashlib.sha256(b"document %d" % n).digest()
        assert imprinted(stamp(tsa.url, digest=digest)) == digest
    assert (tsa.connections, tsa.requests) == (1, 5)


def test_concurrent_signatures_use_separate_connections_then_reuse_them(tsa: StandInTsa) -> None:
    tsa.delay = 0.2  # all four requests are in flight at once

    async def four() -> list[cms.ContentInfo]:
        stamper = HttpTimeStamper(tsa.url)
        return await asyncio.gather(*(stamper.async_timestamp(DIGEST, "sha256") for _ in range(4)))

    assert all(imprinted(token) == DIGEST for token in asyncio.run(four()))
    assert tsa.connections == 4
    tsa.delay = 0
    asyncio.run(four())
    assert (tsa.connections, tsa.requests) == (4, 8)


def test_a_connection_the_server_dropped_is_retried_once_on_a_new_one(tsa: StandInTsa) -> None:
    tsa.drop_after_reply = True
    for _ in range(3):
        assert imprinted(stamp(tsa.url)) == DIGEST
    # Each request after the first found its kept connection closed and opened another;
    # the server saw every query once (the failed send never reached it as a request).
    assert (tsa.connections, tsa.requests) == (3, 3)


def test_a_forked_child_opens_its_own_connection(tsa: StandInTsa) -> None:
    stamp(tsa.url)
    assert tsa.connections == 1
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            stamp(tsa.url)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tsa.connections, tsa.requests) == (2, 2)
    # The parent's kept connection was left alone by the child and still serves it.
    stamp(tsa.url)
    assert (tsa.connections, tsa.requests) == (2, 3)


def test_a_timeout_is_a_timestamp_error_and_is_not_retried(tsa: StandInTsa) -> None:
    stamp(tsa.url)  # a kept connection: a timeout on it is not mistaken for a stale one
    tsa.delay = 1.0
    with pytest.raises(TimestampRequestError, match=r"could not reach timestamp server .*timed out"):
        stamp(tsa.url, timeout=0.3)
    assert tsa.requests == 2
    tsa.delay = 0
    assert imprinted(stamp(tsa.url)) == DIGEST  # the timed-out connection was not kept


def test_an_http_error_keeps_its_message_and_the_connection(tsa: StandInTsa) -> None:
    tsa.answer = lambda query: (503, "text/plain", b"busy")
    with pytest.raises(TimestampRequestError, match="answered HTTP 503 Service Unavailable"):
        stamp(tsa.url)
    tsa.answer = tsa.granted
    stamp(tsa.url)
    assert tsa.connections == 1


def test_a_request_without_a_nonce_is_granted(tsa: StandInTsa) -> None:
    stamper = HttpTimeStamper(tsa.url)
    stamper.include_nonce = False
    token = asyncio.run(stamper.async_timestamp(DIGEST, "sha256"))
    assert token["content"]["encap_content_info"]["content"].parsed["nonce"].native is None


# --- replies that are refused ------------------------------------------------------------------


def test_a_reply_of_another_content_type_is_refused(tsa: StandInTsa) -> None:
    tsa.answer = lambda query: (200, "text/html", b"<p>login</p>")
    with pytest.raises(TimestampRequestError, match="answered 'text/html', expected 'application/timestamp-reply'"):
        stamp(tsa.url)


def test_an_oversized_reply_is_refused_and_its_connection_dropped(tsa: StandInTsa) -> None:
    tsa.answer = lambda query: (200, REPLY_TYPE, bytes(1024 * 1024 + 10))
    with pytest.raises(TimestampRequestError, match="reply over 1048576 bytes"):
        stamp(tsa.url)
    tsa.answer = tsa.granted
    stamp(tsa.url)
    assert tsa.connections == 2  # the rest of the big reply was never read: not reusable


def test_an_unreadable_reply_is_refused(tsa: StandInTsa) -> None:
    tsa.answer = lambda query: (200, REPLY_TYPE, b"\x30\x03not der")
    with pytest.raises(TimestampRequestError, match="sent an unreadable reply"):
        stamp(tsa.url)


def test_a_grant_without_a_token_is_refused(tsa: StandInTsa) -> None:
    empty_grant = TimeStampResponse({"status": {"status": "granted"}}).dump()
    tsa.answer = lambda query: (200, REPLY_TYPE, empty_grant)
    with pytest.raises(TimestampRequestError, match="granted the request but sent no token"):
        stamp(tsa.url)


def test_a_rejection_names_its_reason(tsa: StandInTsa) -> None:
    with pytest.raises(TimestampRequestError, match=r"refused the request \(rejection: .*failure: bad_alg\)"):
        asyncio.run(HttpTimeStamper(tsa.url).async_timestamp(bytes(20), "sha1"))


def _answered_as_if(change: Callable[[tsp.TimeStampReq], None]) -> Callable[[StandInTsa], Answer]:
    def answer_for(server: StandInTsa) -> Answer:
        def answer(query: bytes) -> tuple[int, str, bytes]:
            request = tsp.TimeStampReq.load(query).copy()
            change(request)
            return server.granted(request.dump(force=True))

        return answer

    return answer_for


def _other_digest(request: tsp.TimeStampReq) -> None:
    request["message_imprint"]["hashed_message"] = hashlib.sha256(b"another document").digest()


def _other_algorithm(request: tsp.TimeStampReq) -> None:
    request["message_imprint"] = {
        "hash_algorithm": {"algorithm": "sha512"},
        "hashed_message": hashlib.sha512(b"the document").digest(),
    }


def _other_nonce(request: tsp.TimeStampReq) -> None:
    request["nonce"] = request["nonce"].native + 1


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (_answered_as_if(_other_digest), "sent a token for another document digest"),
        (_answered_as_if(_other_algorithm), "sent a token for another document digest"),
        (_answered_as_if(_other_nonce), "sent a token with another nonce"),
    ],
    ids=["digest", "algorithm", "nonce"],
)
def test_a_token_for_another_request_is_refused(
    tsa: StandInTsa, tamper: Callable[[StandInTsa], Answer], error: str
) -> None:
    tsa.answer = tamper(tsa)
    with pytest.raises(TimestampRequestError, match=error):
        stamp(tsa.url)


# --- through a proxy -------------------------------------------------------------------------


class _ForwardingProxy(ThreadingHTTPServer):
    """An HTTP proxy stand-in: forwards each request (its target an absolute URL) and counts them."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ForwardingProxy

    def do_POST(self) -> None:
        self.server.requests += 1
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        try:
            upstream.request("POST", target.path, body=body, headers={"Content-Type": self.headers["Content-Type"]})
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.headers["Content-Type"])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_ForwardingProxy]:
    server = _ForwardingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_tsa_behind_the_environment_s_proxy_is_reached_through_it(tsa: StandInTsa, proxy: _ForwardingProxy) -> None:
    for n in range(2):
        digest = hashlib.sha256(b"proxied %d" % n).digest()
        assert imprinted(stamp(tsa.url, digest=digest)) == digest
    assert (proxy.requests, tsa.requests) == (2, 2)


def test_no_proxy_sends_the_tsa_direct_and_pooled(
    tsa: StandInTsa, proxy: _ForwardingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for n in range(2):
        stamp(tsa.url, digest=hashlib.sha256(b"direct %d" % n).digest())
    assert proxy.requests == 0
    assert (tsa.connections, tsa.requests) == (1, 2)
