"""One HTTP/1.1 exchange on a socket, for the kept-alive clients: a request's head and
body sent, and its answer read. What those clients need, no more.

``http.client`` parses every answer's headers with the e-mail parser: a third of a 50 KB
object put's CPU, a quarter of a timestamp request's (README, "Long-term signatures"). The clients
that send one verb to one server (``sanad.object_puts``, ``trust.http_connections``) use
this instead: the head built from plain strings (a line break in one is refused), the
answer's status line, its headers by lower-case name, and a body delimited by
``Content-Length``, by chunks, or by the end of the connection.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

#: The most bytes an answer's status line and headers may take.
MAX_HEAD_BYTES = 64 * 1024
_READ_SIZE = 64 * 1024


def request_head(method: str, target: str, headers: Mapping[str, str], body_length: int) -> bytes:
    """A request's head, ``Content-Length`` added. Raises ``ValueError`` for a line break
    in any part: it would end the head early and start a request of someone else's."""
    for text in (target, *headers.keys(), *headers.values()):
        if "\r" in text or "\n" in text:
            raise ValueError(f"a line break in a request's head: {text!r}")
    lines = [f"{method} {target} HTTP/1.1\r\n", *(f"{name}: {value}\r\n" for name, value in headers.items())]
    return "".join(lines).encode("latin-1") + f"Content-Length: {body_length}\r\n\r\n".encode("ascii")


def send_request(sock: socket.socket, head: bytes, body: bytes) -> None:
    """Send ``head`` and ``body`` whole; on a plain socket in one call where the socket
    takes it all (no copy of the body into the head)."""
    if not isinstance(sock, ssl.SSLSocket):
        # A socket with a timeout sends what its buffer takes: a large body's rest follows.
        sent = sock.sendmsg([head, body])
        if sent < len(head):
            sock.sendall(head[sent:])
            sock.sendall(body)
        elif sent < len(head) + len(body):
            sock.sendall(memoryview(body)[sent - len(head) :])
        return
    sock.sendall(head)
    sock.sendall(body)


class BadAnswer(ConnectionError):
    """The server answered something that is not an HTTP/1.x answer, or closed the
    connection in the middle of one."""


class ClosedBeforeAnswer(ConnectionResetError):
    """The connection ended before any byte of an answer: on a kept-alive connection, the
    server had closed it meanwhile, and the request may be sent again on a new one."""


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: dict[str, str]
    """By lower-case name; a repeated header keeps its last value."""
    body: bytes
    """At most ``body_limit + 1`` bytes: one more than the caller takes tells it the body
    was larger."""
    reusable: bool
    """The whole answer was read and the server did not ask to close: the connection may
    carry another request."""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case (``text/plain`` when absent, as
        HTTP has it)."""
        media_type = self.headers.get("content-type", "").partition(";")[0].strip().lower()
        return media_type if "/" in media_type else "text/plain"


def read_answer(sock: socket.socket, *, body_limit: int) -> Answer:
    """Read the answer to the request just sent on ``sock``, skipping interim (1xx) ones.
    A body over ``body_limit`` bytes is not read to its end (the answer is then not
    reusable). Raises :class:`ClosedBeforeAnswer`, :class:`BadAnswer` or the socket's
    ``OSError`` (a timeout among them)."""
    buffer = _Buffer(sock)
    while True:
        status, reason, version, headers = _read_head(buffer)
        if not 100 <= status < 200:
            break
    reusable = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        return Answer(status, reason, headers, b"", reusable)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, complete = _read_chunked(buffer, body_limit)
    elif (length := headers.get("content-length", "").strip()).isdigit():
        body, complete = _read_exactly(buffer, int(length), body_limit)
    else:  # delimited by the end of the connection
        body, complete = buffer.read_to_end(body_limit + 1), False
    return Answer(status, reason, headers, body, reusable and complete and not buffer.pending)


class _Buffer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = b""
        self.received_any = False

    def fill(self) -> None:
        chunk = self.sock.recv(_READ_SIZE)
        if not chunk:
            if not self.received_any:
                raise ClosedBeforeAnswer("the server closed the connection before answering")
            raise BadAnswer("the connection closed in the middle of the answer")
        self.received_any = True
        self.pending += chunk

    def line(self, limit: int) -> bytes:
        while (end := self.pending.find(b"\r\n")) < 0:
            if len(self.pending) > limit:
                raise BadAnswer("a line of the answer's chunks is too long")
            self.fill()
        line, self.pending = self.pending[:end], self.pending[end + 2 :]
        return line

    def take(self, count: int) -> bytes:
        while len(self.pending) < count:
            self.fill()
        taken, self.pending = self.pending[:count], self.pending[count:]
        return taken

    def read_to_end(self, limit: int) -> bytes:
        while len(self.pending) < limit:
            chunk = self.sock.recv(_READ_SIZE)
            if not chunk:
                break
            self.pending += chunk
        taken, self.pending = self.pending[:limit], b""
        return taken


def _read_head(buffer: _Buffer) -> tuple[int, str, str, dict[str, str]]:
    end = buffer.pending.find(b"\r\n\r\n")
    while end < 0:
        if len(buffer.pending) > MAX_HEAD_BYTES:
            raise BadAnswer("the answer's head is too long")
        buffer.fill()
        end = buffer.pending.find(b"\r\n\r\n")
    head, buffer.pending = buffer.pending[:end], buffer.pending[end + 4 :]
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise BadAnswer(f"not an HTTP answer: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return int(code), reason.strip(), version, headers


def _read_exactly(buffer: _Buffer, length: int, limit: int) -> tuple[bytes, bool]:
    if length > limit:
        return buffer.take(min(length, limit + 1)), False
    return buffer.take(length), True


def _read_chunked(buffer: _Buffer, limit: int) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size_so_far = 0
    while True:
        size_text = buffer.line(MAX_HEAD_BYTES).partition(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadAnswer(f"not a chunk size: {size_text[:20]!r}") from None
        if size == 0:
            while buffer.line(MAX_HEAD_BYTES):  # trailers, up to the empty line
                pass
            return b"".join(parts), True
        if size_so_far + size > limit:
            parts.append(buffer.take(min(size, limit + 1 - size_so_far)))
            return b"".join(parts), False
        parts.append(buffer.take(size))
        size_so_far += size
        if buffer.line(2):
            raise BadAnswer("a chunk is longer than its size says")
