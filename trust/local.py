"""Run the development PKI's services (TSA, CRLs) on a local port for a while.

Signing at B-T and above needs the TSA to answer over HTTP. ``sanad serve`` publishes it
under ``/pki``; commands that sign without the server running (``sanad demo-seed``,
``sanad issue``) and the tests start this small server in a background thread instead.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlsplit

from sanad.settings import Settings
from sanad.threaded_server import free_port, serve_in_thread
from trust import paths
from trust.responder import Clock, responder_app, utc_now

__all__ = ["free_port", "responder_running", "serve_responder", "serving_pki"]


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` answers 200 (another server on the port is not our PKI)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a local http URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve_responder(keys_dir: Path, port: int, *, host: str = "127.0.0.1", now: Clock = utc_now) -> Iterator[str]:
    """Serve ``/pki`` for ``keys_dir`` at ``http://host:port`` until the block ends."""
    with serve_in_thread(responder_app(keys_dir, now=now), port=port, host=host) as url:
        yield f"{url}/pki"


@contextmanager
def responder_running(keys_dir: Path, base_url: str) -> Iterator[None]:
    """Make sure the PKI at ``base_url`` answers: if nothing listens there and it is a
    local address, serve it from this process for the duration."""
    parts = urlsplit(base_url)
    if answers(f"{base_url}/ca/root-ca.cer") or parts.hostname not in ("127.0.0.1", "localhost"):
        yield
        return
    with serve_responder(keys_dir, parts.port or 80, host=parts.hostname or "127.0.0.1"):
        yield


def serving_pki(settings: Settings) -> AbstractContextManager[None]:
    """Serve the development PKI (TSA, CRLs) from this process while a command signs or
    verifies, unless the deployment uses another TSA or a server already answers."""
    if not settings.pki_responder or settings.tsa_url is not None:
        return nullcontext()
    return responder_running(settings.keys_dir, paths.base_url(settings.keys_dir))
