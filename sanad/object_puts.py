"""PUT requests to object storage over kept-alive connections, without a general HTTP client.

A submission stores two files; through urllib3 (over ``http.client``, which parses every
answer's headers with the e-mail parser) a 50 KB put cost ~0.55 ms of CPU, a third of it
the answer's parsing. This client does one thing, for ~0.17 ms: send a PUT's head and body
in one call and read the status of the answer, whose body it reads only to keep the
connection (an S3 put answers with none; an error with a short XML document).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections import deque
from collections.abc import Mapping

from sanad.http_wire import BadAnswer, read_answer, request_head, send_request

__all__ = ["BadAnswer", "KeptAlivePuts"]

#: An answer body larger than this is not read: the connection is closed instead.
MAX_DRAINED_BYTES = 1024 * 1024
#: Statuses a put is sent once more for, as a busy or restarting server answers.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
RETRY_PAUSE_SECONDS = 0.1


class KeptAlivePuts:
    """Sends PUTs to one ``host:port`` (TLS when ``secure``), keeping up to ``keep``
    idle connections for the next ones. Safe to use from several threads: a connection
    serves one request at a time. Fails with ``OSError`` (``TimeoutError``,
    ``ConnectionError``, ``ssl.SSLError``, :class:`BadAnswer`) when the server cannot be
    reached or answers nonsense; a put on a kept connection the server had closed
    meanwhile is sent once more on a new one."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        secure: bool = False,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        keep: int = 32,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.keep = keep
        self._tls = ssl.create_default_context() if secure else None
        self._idle: deque[socket.socket] = deque()  # append and pop are atomic

    def put(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        """Send ``PUT path`` with ``headers`` (``Content-Length`` is added) and ``body``;
        returns the answer's status."""
        head = request_head("PUT", path, headers, len(body))
        status = self._send(head, body)
        if status in RETRIED_STATUSES:
            time.sleep(RETRY_PAUSE_SECONDS)
            status = self._send(head, body)
        return status

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def __del__(self) -> None:
        # A store dropped without being closed (a test's, a command's) leaves no socket open.
        self.close()

    def _send(self, head: bytes, body: bytes) -> int:
        try:
            kept: socket.socket | None = self._idle.pop()
        except IndexError:
            kept = None
        if kept is not None:
            try:
                return self._exchange(kept, head, body)
            except OSError:
                pass  # most likely closed by the server while idle: once more on a new one
        return self._exchange(self._connect(), head, body)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.read_timeout)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return sock

    def _exchange(self, sock: socket.socket, head: bytes, body: bytes) -> int:
        try:
            send_request(sock, head, body)
            answer = read_answer(sock, body_limit=MAX_DRAINED_BYTES)
        except BaseException:
            sock.close()
            raise
        if answer.reusable and len(self._idle) < self.keep:
            self._idle.append(sock)
        else:
            sock.close()
        return answer.status
