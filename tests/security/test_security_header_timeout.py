"""A client that trickles its request headers (slowloris) is cut off after
``header_read_timeout_seconds``, over a real socket against a live server, while other
clients are answered as usual."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.concurrency import live_server
from tests.conftest import REPO, Backend
from trust.local import free_port

TIMEOUT = 1.0
#: The server's event loop (uvloop: libuv) reads its clock once per loop iteration, at
#: millisecond resolution, so its deadline can fall a few milliseconds before the one the
#: client measures from its own side of the connection.
CLOCK_SLACK = 0.01


@pytest.fixture
def server(backend: Backend) -> Iterator[tuple[str, int, str]]:
    with live_server(backend, header_read_timeout_seconds=TIMEOUT) as url:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        yield parts.hostname, parts.port, url


def connect(host: str, port: int) -> socket.socket:
    return socket.create_connection((host, port), timeout=5)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def read_response(sock: socket.socket) -> bytes:
    """One whole response with a ``content-length``."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection before a whole response: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection before a whole response: {received!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_trickled_headers_get_408_and_the_connection_is_closed(server: tuple[str, int, str]) -> None:
    host, port, url = server
    httpx.get(f"{url}/health", timeout=5)  # the app's first answer warms it up
    with connect(host, port) as slow:
        opened = time.monotonic()
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: sanad\r\n")
        answered: list[float] = []
        try:
            # One header every 0.2 s: each piece in time, the whole head never.
            for n in range(40):
                slow.sendall(f"X-Slow-{n}: x\r\n".encode())
                if n % 2 == 0:
                    started = time.monotonic()
                    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
                    answered.append(time.monotonic() - started)
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_all(slow)
        cut_after = time.monotonic() - opened

    assert reply.startswith(b"HTTP/1.1 408 "), reply
    assert b'"error":"request_timeout"' in reply
    assert TIMEOUT - CLOCK_SLACK <= cut_after < TIMEOUT + 1.5
    assert answered
    assert max(answered) < 0.5, answered  # others were not held up


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    with connect(host, port) as idle:
        opened = time.monotonic()
        assert read_all(idle) == b""
        assert TIMEOUT - CLOCK_SLACK <= time.monotonic() - opened < TIMEOUT + 1.5


def test_a_kept_alive_connection_has_the_same_deadline_for_its_next_request(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    with connect(host, port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: sanad\r\n\r\n")
        first = read_response(sock)
        assert first.startswith(b"HTTP/1.1 200 ")
        # The next request's head starts (cancelling uvicorn's keep-alive timer) but never ends.
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        started = time.monotonic()
        try:
            for n in range(40):
                sock.sendall(f"X-Slow-{n}: x\r\n".encode())
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_all(sock)
        assert reply.startswith(b"HTTP/1.1 408 "), reply
        assert time.monotonic() - started < TIMEOUT + 1.5


def test_a_complete_head_is_not_cut_off_while_its_body_arrives(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    body = b'{"mobile": "12"}'
    with connect(host, port) as sock:
        sock.sendall(
            b"POST /api/v1/locker/otp HTTP/1.1\r\nHost: sanad\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        time.sleep(TIMEOUT + 0.5)  # past the head's deadline, well within the body's
        sock.sendall(body)
        reply = read_response(sock)
    assert reply.startswith(b"HTTP/1.1 422 "), reply


def test_sanad_serve_cuts_off_trickled_headers_in_every_worker_process(tmp_path: Path) -> None:
    """The deployed command, with two spawned worker processes (the protocol reaches them
    pickled with their configuration)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    env |= {
        "SANAD_DATABASE_URL": f"sqlite:///{tmp_path / 'sanad.db'}",
        "SANAD_STORAGE_PATH": str(tmp_path / "objects"),
        "SANAD_KEYS_DIR": str(tmp_path / "keys"),
        "SANAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SANAD_HEADER_READ_TIMEOUT_SECONDS": str(TIMEOUT),
        "PYTHONPATH": str(REPO),
    }
    sanad = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*sanad, "init"], cwd=tmp_path, env=env, check=True, timeout=120, capture_output=True)
    process = subprocess.Popen(
        [*sanad, "serve", "--port", str(port), "--workers", "2", "--no-background"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_it_answers(f"http://127.0.0.1:{port}/health")
        # Several connections, so the kernel hands some to each worker process.
        replies = []
        for _ in range(4):
            with connect("127.0.0.1", port) as slow:
                slow.sendall(b"GET /health HTTP/1.1\r\nHost: sanad\r\nX-Slow: ")
                replies.append(read_all(slow))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert all(reply.startswith(b"HTTP/1.1 408 ") for reply in replies), replies


def _wait_until_it_answers(url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    pytest.fail("the server did not answer within 90 s")


def test_a_head_larger_than_16_kib_gets_431_and_the_connection_is_closed(server: tuple[str, int, str]) -> None:
    host, port, url = server
    headers = "".join(f"X-Big-{n}: {'x' * 1000}\r\n" for n in range(17))  # 17 KiB, fast
    with connect(host, port) as big:
        # In one write: the server reads all of it before it answers and closes, so its
        # close is a FIN the answer arrives before (bytes left unread would make it a reset).
        big.sendall(f"GET /health HTTP/1.1\r\nHost: sanad\r\n{headers}".encode())
        reply = read_all(big)
    assert reply.startswith(b"HTTP/1.1 431 "), reply
    assert b'"error":"headers_too_large"' in reply
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200


def test_one_endless_header_is_cut_off_at_the_bound_not_at_the_deadline(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    with connect(host, port) as big:
        started = time.monotonic()
        try:
            big.sendall(b"GET /health HTTP/1.1\r\nHost: sanad\r\nX-Big: " + b"x" * 200_000)
            reply = read_all(big)
        except (BrokenPipeError, ConnectionResetError):
            reply = b""  # closed with bytes unread: the reset may overtake the answer
        elapsed = time.monotonic() - started
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431 "), reply
    assert elapsed < TIMEOUT - CLOCK_SLACK  # not held until the deadline's 408


def test_a_head_under_the_bound_and_pipelined_requests_are_answered(server: tuple[str, int, str]) -> None:
    host, port, _ = server
    padding = "".join(f"X-Pad-{n}: {'y' * 1000}\r\n" for n in range(12))  # ~12 KiB
    request = f"GET /health HTTP/1.1\r\nHost: sanad\r\n{padding}\r\n".encode()
    with connect(host, port) as sock:
        sock.sendall(request * 3)  # three requests in one write
        started = time.monotonic()
        # Three answers, then the connection waits for the next head under the same
        # deadline and is closed at it.
        received = read_all(sock)
        waited = time.monotonic() - started
    assert received.count(b"HTTP/1.1 200 ") == 3, received
    assert TIMEOUT - CLOCK_SLACK <= waited < TIMEOUT + 1.5
