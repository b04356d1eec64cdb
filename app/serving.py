"""Serving HTTP with one uvicorn process per core, each on a listening socket of its own.

Two measured faults of uvicorn's own multi-process mode are avoided here:

- **Nagle's delay.** Its shared listening socket is made with ``socket.socket(family)``,
  whose protocol number is 0, and asyncio only sets ``TCP_NODELAY`` on accepted sockets
  whose protocol is ``IPPROTO_TCP``. With two workers every answer written in two parts
  (headers, then body) waited for the client's delayed ACK: 45 ms a request instead of
  0.5 ms on loopback. Our sockets name ``IPPROTO_TCP``, so asyncio sets it.
- **One worker doing all the work.** All workers accept from one queue, and a keep-alive
  connection stays with the worker that accepted it; a worker that happens to be awake
  takes most connections. Each worker here listens on its own ``SO_REUSEPORT`` socket, so
  the kernel spreads new connections across the workers by their addresses.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("uvicorn.error")

#: How long a stopping worker may finish its requests before it is killed.
STOP_GRACE_SECONDS = 30.0
#: How often the supervisor looks for a worker that died (and starts another).
WATCH_SECONDS = 0.5


class PortTaken(RuntimeError):
    """Another process already listens on the address."""


def listening_socket(host: str, port: int, *, backlog: int, reuse_port: bool) -> socket.socket:
    """A TCP socket bound and listening on ``host:port``, whose accepted connections
    asyncio sets to ``TCP_NODELAY`` (it checks the protocol number)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def refuse_taken_port(host: str, port: int) -> None:
    """Fail early when the address is in use. Without this a second server started on the
    same port by mistake would join the first one's ``SO_REUSEPORT`` group and quietly take
    half of its connections: a socket bound without the option collides with both."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
        except OSError as exc:
            raise PortTaken(f"{host}:{port} is already in use ({exc.strerror})") from exc


def serve_http(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the ASGI ``app`` (an import string) on ``host:port`` with ``workers``
    processes; ``options`` are uvicorn's ``Config`` options. Returns on SIGINT or SIGTERM.

    The event loop is uvloop's unless ``loop`` says otherwise: it answered 1.3-1.6 times
    the requests per core of asyncio's (bench/RESULTS.md, "Reads at wire speed"), and it
    sets ``TCP_NODELAY`` on every TCP connection it accepts."""
    options.setdefault("loop", "uvloop")
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    if workers <= 1:
        _run_worker(config, reuse_port=False)
        return
    refuse_taken_port(host, port)
    Supervisor(config, workers).run()


def _run_worker(config: uvicorn.Config, *, reuse_port: bool) -> None:
    sock = listening_socket(config.host, config.port, backlog=config.backlog, reuse_port=reuse_port)
    uvicorn.Server(config).run(sockets=[sock])


def _worker_main(config: uvicorn.Config) -> None:
    # A spawned process starts with Python's default logging: set up uvicorn's again.
    config.configure_logging()
    _run_worker(config, reuse_port=True)


class Supervisor:
    """Starts the workers, starts another when one dies, and stops them all on SIGINT or
    SIGTERM. A worker that fails while starting stops the whole server, since every
    other start would fail the same way."""

    def __init__(self, config: uvicorn.Config, workers: int) -> None:
        self.config = config
        self.workers = workers
        self._stop = threading.Event()
        # Spawned, not forked: a fork would copy the supervisor's threads and locks.
        self._processes = multiprocessing.get_context("spawn")

    def run(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stop.set())
        running = [self._start() for _ in range(self.workers)]
        log.info("supervisor %d started %d workers", os.getpid(), len(running))
        while not self._stop.wait(WATCH_SECONDS):
            for index, process in enumerate(running):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker %s failed to start; stopping the server", process.pid)
                    self._stop.set()
                    break
                log.warning("worker %s exited (%s); starting another", process.pid, process.exitcode)
                running[index] = self._start()
        self._stop_all(running)

    def _start(self) -> BaseProcess:
        process = self._processes.Process(target=_worker_main, args=(self.config,), name="sanad-http")
        process.start()
        return process

    def _stop_all(self, running: list[BaseProcess]) -> None:
        for process in running:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        grace = self.config.timeout_graceful_shutdown or STOP_GRACE_SECONDS
        for process in running:
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()
