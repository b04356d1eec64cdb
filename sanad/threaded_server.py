"""Serve an ASGI app from a background thread of this process, for a while.

Used where a real HTTP server is needed without a second process: the development PKI
while a command signs (``trust.local``) and the browser and command-line tests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from sanad.http_protocol import DEFAULT_HEADER_TIMEOUT_SECONDS, header_deadline_protocol


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(
    app: Any,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
) -> Iterator[str]:
    """Serve ``app`` at ``http://host:port`` (a free port if none) until the block ends,
    with the protocol ``sanad serve`` uses."""
    port = port or free_port()
    http = header_deadline_protocol(header_timeout)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", http=http))
    thread = threading.Thread(target=server.run, name=f"http-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"could not serve on {host}:{port} (is another program using the port?)")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
