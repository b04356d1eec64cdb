"""The puts' own HTTP client (``sanad.object_puts``): connections are kept and reused, a
kept connection the server closed costs no put, and what is not an answer is an error."""

from __future__ import annotations

import hashlib
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from sanad.object_puts import BadAnswer, KeptAlivePuts
from sanad.storage import MinioStore
from tests.conftest import Backend

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class CountedPuts(KeptAlivePuts):
    """Counts the connections it opens."""

    opened = 0

    def _connect(self) -> socket.socket:
        self.opened += 1
        return super()._connect()


def _read_request(conn: socket.socket) -> bool:
    """Reads one whole request (head and ``Content-Length`` body); False at the end of
    the connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return True


@contextmanager
def http_server(answer: Callable[[int, int], bytes | None]) -> Iterator[tuple[int, list[int]]]:
    """A server on a free port answering the n-th request of the c-th connection with
    ``answer(c, n)`` (None: close the connection instead). Yields its port and, per
    connection, how many requests it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    # A blocked accept() does not return when another thread closes the listener: it
    # wakes up to see whether the test is over.
    listener.settimeout(0.05)
    requests: list[int] = []
    over = threading.Event()

    def serve() -> None:
        while not over.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            requests.append(0)
            with conn:
                while _read_request(conn):
                    requests[-1] += 1
                    reply = answer(len(requests), requests[-1])
                    if reply is None:
                        break
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], requests
    finally:
        over.set()
        thread.join(5)
        listener.close()


def test_puts_to_minio_share_one_connection(backend: Backend) -> None:
    store = backend.store
    if not isinstance(store, MinioStore) or store.puts is None:
        pytest.skip("the filesystem store sends nothing")
    _, signer = store.puts
    settings = backend.settings
    host, port = settings.minio_endpoint.rsplit(":", 1)
    sender = CountedPuts(host, int(port))
    keys = [f"applications/{secrets.token_hex(4)}/{k}.pdf" for k in range(3)]

    for key in keys:
        data = b"%PDF-" + secrets.token_bytes(20_000)
        signed = signer.put(store.bucket, key, hashlib.sha256(data).hexdigest(), "application/pdf")
        assert sender.put(signed.path, signed.headers, data) == 200
        assert store.get(key) == data

    assert sender.opened == 1
    for key in keys:
        store.delete(key)
    sender.close()


def test_a_body_larger_than_the_socket_takes_at_once_is_sent_whole() -> None:
    # 16 MiB: over what one send takes here (tcp_wmem's 4 MB). The server answers only once
    # it has read the whole Content-Length; a body cut short leaves the put to time out.
    with http_server(lambda _c, _n: OK) as (port, requests):
        sender = KeptAlivePuts("127.0.0.1", port, read_timeout=5)
        status = sender.put("/big", {"Host": "x"}, secrets.token_bytes(16 * 2**20))
        sender.close()

    assert status == 200
    assert requests == [1]


def test_a_kept_connection_the_server_closed_costs_no_put() -> None:
    # Each connection carries one request, then the server closes it without saying so.
    with http_server(lambda _c, n: OK if n == 1 else None) as (port, requests):
        sender = CountedPuts("127.0.0.1", port)
        statuses = [sender.put("/bucket/key", {"Host": "x"}, b"body") for _ in range(3)]
        sender.close()

    assert statuses == [200, 200, 200]
    assert sender.opened == 3
    assert requests == [2, 2, 1]


def test_an_answer_with_a_body_is_read_whole_and_the_connection_kept() -> None:
    refusal = b"<Error><Code>BadDigest</Code></Error>"
    first = b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s" % (len(refusal), refusal)
    with http_server(lambda _c, n: first if n == 1 else OK) as (port, requests):
        sender = CountedPuts("127.0.0.1", port)
        statuses = [sender.put("/bucket/key", {"Host": "x"}, b"body") for _ in range(2)]
        sender.close()

    assert statuses == [400, 200]
    assert sender.opened == 1
    assert requests == [2]


def test_a_connection_the_server_means_to_close_is_not_kept() -> None:
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with http_server(lambda _c, _n: closing) as (port, requests):
        sender = CountedPuts("127.0.0.1", port)
        statuses = [sender.put("/bucket/key", {"Host": "x"}, b"body") for _ in range(2)]
        sender.close()

    assert statuses == [200, 200]
    assert sender.opened == 2
    assert requests == [1, 1]


def test_a_busy_server_is_asked_once_more() -> None:
    busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
    with http_server(lambda _c, n: busy if n == 1 else OK) as (port, requests):
        sender = KeptAlivePuts("127.0.0.1", port)
        status = sender.put("/bucket/key", {"Host": "x"}, b"body")
        sender.close()

    assert status == 200
    assert requests == [2]


def test_what_is_not_an_http_answer_is_an_error() -> None:
    with http_server(lambda _c, _n: b"SSH-2.0-OpenSSH\r\n\r\n") as (port, _):
        sender = KeptAlivePuts("127.0.0.1", port)
        with pytest.raises(BadAnswer):
            sender.put("/bucket/key", {"Host": "x"}, b"body")


def test_a_server_that_never_answers_times_out() -> None:
    with http_server(lambda _c, _n: b"") as (port, _):
        sender = KeptAlivePuts("127.0.0.1", port, read_timeout=0.2)
        with pytest.raises(TimeoutError):
            sender.put("/bucket/key", {"Host": "x"}, b"body")


@pytest.mark.parametrize("where", ["path", "value"])
def test_a_line_break_in_the_head_is_refused(where: str) -> None:
    sender = KeptAlivePuts("127.0.0.1", 1)
    path, value = ("/k\r\nX-Evil: 1", "x") if where == "path" else ("/k", "text/plain\r\nX-Evil: 1")

    with pytest.raises(ValueError, match="line break"):
        sender.put(path, {"Content-Type": value}, b"body")
