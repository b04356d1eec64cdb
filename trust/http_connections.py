"""Keep-alive HTTP(S) connections, pooled per process and per origin.

Every signature at B-T and above asks a timestamp server for a token; a new connection
per request costs a TCP (and, over HTTPS, a TLS) handshake and its round trips. This pool
keeps finished connections open and hands them to the next request for the same origin.

A connection is used by one thread at a time: it leaves the pool while a request is on
it and returns only when its reply was read to the end and the server did not ask to
close. A forked child starts with an empty pool, so parent and child never interleave
requests on one socket.

Requests are written and answers read with ``sanad.http_wire``, not ``http.client``: its
e-mail header parser took a quarter of the client's CPU for a timestamp (~0.74 ms of CPU a
request to the development TSA, ~0.55 ms without it).

An origin the environment sends through a proxy (``HTTP_PROXY``/``HTTPS_PROXY``, less
``NO_PROXY``) is not pooled: ``post_through_proxy`` asks ``urllib``, which speaks to
proxies, for a connection of its own each time.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from sanad.http_wire import read_answer, request_head, send_request

# A server may close an idle keep-alive connection at any moment; the next request on it
# then fails on send or finds no status line. Timeouts are not among these: a slow server
# is not a stale connection.
STALE_CONNECTION_ERRORS = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)
_DEFAULT_PORTS = {"http": 80, "https": 443}

_Origin = tuple[str, str, int]


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    content_type: str
    body: bytes


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Built once: loading the system's CA store costs more than a request.
    return ssl.create_default_context()


class ConnectionPool:
    def __init__(self, max_idle_per_origin: int = 32) -> None:
        self.max_idle_per_origin = max_idle_per_origin
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[socket.socket]] = {}

    def forget(self) -> None:
        """Drop every connection without closing it (in a forked child, after fork):
        its copies belong to the parent's conversations, and the lock may have been
        held by a parent's thread that does not exist here."""
        self._lock = threading.Lock()
        self._idle = {}

    def close_idle(self) -> None:
        """Close every idle connection (in use ones close when their request ends)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def post(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, limit: int) -> Reply:
        """POST ``body`` and read at most ``limit`` + 1 bytes of the reply (so a caller can
        tell an oversized one). Only for idempotent requests: a request that fails on a
        reused connection the server had closed is sent once more on a new one."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        origin = (parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]  # as the URL spells it: an IPv6 address in brackets
        head = request_head("POST", target, {"Host": host, **headers}, len(body))
        connection = self._take(origin, timeout)
        if connection is not None:
            try:
                return self._exchange(origin, connection, head, body, limit)
            except STALE_CONNECTION_ERRORS:
                pass  # closed by _exchange; try once on a new connection
        return self._exchange(origin, _open(origin, timeout), head, body, limit)

    def _take(self, origin: _Origin, timeout: float) -> socket.socket | None:
        with self._lock:
            idle = self._idle.get(origin)
            connection = idle.pop() if idle else None
        if connection is not None:
            # Callers may differ in patience; the socket keeps the last one's otherwise.
            connection.settimeout(timeout)
        return connection

    def _give_back(self, origin: _Origin, connection: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.max_idle_per_origin:
                idle.append(connection)
                return
        connection.close()

    def _exchange(self, origin: _Origin, connection: socket.socket, head: bytes, body: bytes, limit: int) -> Reply:
        try:
            send_request(connection, head, body)
            answer = read_answer(connection, body_limit=limit)
        except BaseException:
            connection.close()
            raise
        # Reusable only if nothing of this reply is left on the socket.
        if answer.reusable:
            self._give_back(origin, connection)
        else:
            connection.close()
        return Reply(answer.status, answer.reason, answer.content_type, answer.body)


def _open(origin: _Origin, timeout: float) -> socket.socket:
    scheme, host, port = origin
    connection = socket.create_connection((host, port), timeout=timeout)
    try:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            return _tls_context().wrap_socket(connection, server_hostname=host)
    except BaseException:
        connection.close()
        raise
    return connection


def proxied(url: str) -> bool:
    """Whether the environment's proxy settings send ``url`` through a proxy."""
    parts = urlsplit(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname or "")


def post_through_proxy(url: str, body: bytes, headers: dict[str, str], *, timeout: float, limit: int) -> Reply:
    """As ``ConnectionPool.post``, through the proxy the environment names, on a new
    connection. A non-2xx answer is a ``Reply`` as from the pool; transport failures
    raise ``OSError``."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 (http(s) only)
    # An opener of its own: urlopen's shared one keeps the proxies of its first use.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler())
    try:
        with opener.open(request, timeout=timeout) as response:
            return Reply(
                response.status, response.reason, response.headers.get_content_type(), response.read(limit + 1)
            )
    except urllib.error.HTTPError as e:
        with e:  # it holds the connection open
            return Reply(e.code, str(e.reason), e.headers.get_content_type(), b"")


POOL = ConnectionPool()
os.register_at_fork(after_in_child=POOL.forget)
