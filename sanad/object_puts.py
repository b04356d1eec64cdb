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

#: The most bytes an answer's status line and headers may take.
MAX_HEAD_BYTES = 64 * 1024
#: An answer body larger than this is not read: the connection is closed instead.
MAX_DRAINED_BYTES = 1024 * 1024
#: Statuses a put is sent once more for, as a busy or restarting server answers.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
RETRY_PAUSE_SECONDS = 0.1
_READ_SIZE = 64 * 1024


class BadAnswer(ConnectionError):
    """The server answered something that is not an HTTP/1.1 answer, or closed the
    connection before the whole answer arrived."""


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
        keep: int = 20,
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
        for text in (path, *headers.keys(), *headers.values()):
            if "\r" in text or "\n" in text:
                raise ValueError(f"a line break in a request's head: {text!r}")
        head = "".join(
            [f"PUT {path} HTTP/1.1\r\n", *(f"{name}: {value}\r\n" for name, value in headers.items())]
        ).encode("latin-1") + f"Content-Length: {len(body)}\r\n\r\n".encode("ascii")
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
            if self._tls is None:
                sock.sendmsg([head, body])  # one call, no copy of the body into the head
            else:
                sock.sendall(head)
                sock.sendall(body)
            status, reusable = _read_answer(sock)
        except BaseException:
            sock.close()
            raise
        if reusable and len(self._idle) < self.keep:
            self._idle.append(sock)
        else:
            sock.close()
        return status


def _read_answer(sock: socket.socket) -> tuple[int, bool]:
    """The answer's status, and whether the connection may carry another request."""
    received = b""
    while (end := received.find(b"\r\n\r\n")) < 0:
        if len(received) > MAX_HEAD_BYTES:
            raise BadAnswer("the answer's head is too long")
        chunk = sock.recv(_READ_SIZE)
        if not chunk:
            raise BadAnswer("the connection closed before the answer")
        received += chunk
    lines = received[:end].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise BadAnswer(f"not an HTTP answer: {lines[0][:80]!r}")
    length: int | None = None
    reusable = version == b"HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length" and value.strip().isdigit():
            length = int(value)
        elif name == b"transfer-encoding" or (name == b"connection" and b"close" in value.lower()):
            reusable = False
    if length is None or length > MAX_DRAINED_BYTES:
        return int(code), False  # the end of the body is not known, or not worth reading: closed
    remaining = length - (len(received) - end - 4)
    while remaining > 0:
        chunk = sock.recv(min(remaining, _READ_SIZE))
        if not chunk:
            raise BadAnswer("the connection closed in the middle of the answer")
        remaining -= len(chunk)
    return int(code), reusable and remaining == 0
