"""Serving with a worker per core: no Nagle delay on answers, connections spread over the
workers, slow clients stall no one, a port in use is refused, SIGTERM stops it all."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from app.serving import PortTaken, listening_socket, serve_http
from tests.conftest import REPO
from tests.shell import embedded_deployment, sanad
from trust.local import free_port

PROBE_APP = "tests.app.serving_probe_app:app"
WORKERS = 2


async def _nodelay_of_accepted(sock: socket.socket) -> int:
    """TCP_NODELAY of the connection asyncio accepts on ``sock``."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted_socket = transport.get_extra_info("socket")
            accepted.set_result(accepted_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    host, port = sock.getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(accepted, 5)
    finally:
        writer.close()
        server.close()


def test_connections_accepted_on_our_socket_send_without_delay() -> None:
    sock = listening_socket("127.0.0.1", 0, backlog=16, reuse_port=True)

    assert asyncio.run(_nodelay_of_accepted(sock)) == 1


def test_uvicorns_own_shared_socket_would_delay_them() -> None:
    """Why the module exists: uvicorn's socket for several workers has protocol 0, and
    asyncio then leaves Nagle's algorithm on (45 ms a request on loopback)."""
    sock = uvicorn.Config(PROBE_APP, host="127.0.0.1", port=0).bind_socket()

    assert asyncio.run(_nodelay_of_accepted(sock)) == 0


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int

    def get(self, connection: http.client.HTTPConnection) -> int:
        connection.request("GET", "/")
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200
        return int(body)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)


def _start_server(workers: int) -> RunningServer:
    port = free_port()
    code = (
        "from app.serving import serve_http; "
        f"serve_http({PROBE_APP!r}, host='127.0.0.1', port={port}, workers={workers}, log_level='warning')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                # Every worker listens once the supervisor has spawned them all; give the
                # last one a moment to bind.
                time.sleep(1.0)
                return RunningServer(process, port)
        except OSError:
            assert process.poll() is None, "the server exited while starting"
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("the server did not start")


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = _start_server(WORKERS)
    yield running
    os.killpg(running.process.pid, signal.SIGTERM)
    running.process.wait(30)


def _pids_of_fresh_connections(server: RunningServer, count: int) -> set[int]:
    pids = set()
    for _ in range(count):
        connection = server.connect()
        pids.add(server.get(connection))
        connection.close()
    return pids


def test_connections_are_spread_over_every_worker(server: RunningServer) -> None:
    # The kernel hashes each connection's addresses to a worker: 24 connections all on
    # one of two workers would happen once in 8 million runs.
    connections = [server.connect() for _ in range(24)]
    pids = {server.get(connection) for connection in connections}
    for connection in connections:
        connection.close()

    assert len(pids) == WORKERS


def test_answers_on_a_kept_alive_connection_are_not_held_back(server: RunningServer) -> None:
    connection = server.connect()
    server.get(connection)
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        server.get(connection)
        timings.append(time.perf_counter() - started)
    connection.close()

    # With Nagle's algorithm on, every answer waited ~40 ms for the client's delayed ACK.
    assert statistics.median(timings) < 0.020, timings


def _trickle(host: str, port: int, stop: threading.Event) -> None:
    """A client sending its request one byte a second, never finishing it."""
    request = b"GET / HTTP/1.1\r\nHost: slow.example\r\nX-Padding: " + b"x" * 60
    with socket.create_connection((host, port), timeout=10) as sock:
        for byte in request:
            if stop.wait(1.0):
                return
            sock.sendall(bytes([byte]))


def test_ten_slow_clients_do_not_stall_the_others(server: RunningServer) -> None:
    stop = threading.Event()
    slow = [threading.Thread(target=_trickle, args=("127.0.0.1", server.port, stop), daemon=True) for _ in range(10)]
    for thread in slow:
        thread.start()
    time.sleep(2.5)  # every slow client is connected and part-way through its request
    try:
        timings = []
        for _ in range(40):
            started = time.perf_counter()
            _pids_of_fresh_connections(server, 1)
            timings.append(time.perf_counter() - started)
    finally:
        stop.set()
        for thread in slow:
            thread.join(5)

    assert max(timings) < 1.0, timings
    assert statistics.median(timings) < 0.050, timings


def test_a_second_server_on_the_same_port_is_refused(server: RunningServer) -> None:
    with pytest.raises(PortTaken, match="already in use"):
        serve_http(PROBE_APP, host="127.0.0.1", port=server.port, workers=WORKERS)


def test_sigterm_stops_the_supervisor_and_every_worker() -> None:
    running = _start_server(WORKERS)
    workers = _pids_of_fresh_connections(running, 12)

    running.process.send_signal(signal.SIGTERM)

    assert running.process.wait(30) == 0
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_embedded_deployment_serves_from_every_worker_and_runs_its_background_work_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded_deployment(tmp_path, monkeypatch)
    code, output = sanad("init")
    assert code == 0, output
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import app; app()", "serve", "--port", str(port), "--workers", "2"],
            env=os.environ | {"PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while (
            "periodic background work" not in log_path.read_text()
            or log_path.read_text().count("Application startup complete") < 2
        ):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        statuses = set()
        for _ in range(12):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/health")
            statuses.add(connection.getresponse().status)
            connection.close()
        time.sleep(1.0)  # a second leader would have said so by now
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    assert statuses == {200}
    assert log_path.read_text().count("runs the periodic background work") == 1
