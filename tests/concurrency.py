"""Firing requests at once, against a real server: limits must hold when requests race,
which the in-process test client (one request at a time) cannot show."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from app.factory import create_app
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend

Result = TypeVar("Result")


@contextmanager
def live_server(backend: Backend, **settings: Any) -> Iterator[str]:
    """The app on a uvicorn server in this process (its handlers run in a thread pool,
    so requests really run at once), with ``settings`` changed; yields its base URL."""
    changed = backend.context.settings.model_copy(update=settings)
    app = create_app(context=replace(backend.context, settings=changed))
    with serve_in_thread(app, header_timeout=changed.header_read_timeout_seconds) as url:
        yield url


def at_once(count: int, call: Callable[[int], Result]) -> list[Result]:
    """``call(0)`` … ``call(count - 1)``, each in its own thread, released together."""
    start = threading.Barrier(count)

    def run(index: int) -> Result:
        start.wait()
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def from_address() -> dict[str, str]:
    """Headers of a request from a fresh client address, as the proxy on the same host
    (which the default ``SANAD_TRUSTED_PROXIES`` believes) reports it."""
    octets = secrets.token_bytes(3)
    return {"X-Forwarded-For": f"10.{octets[0]}.{octets[1]}.{octets[2]}"}
