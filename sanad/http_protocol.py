"""uvicorn's HTTP/1.1 protocol on httptools, with a deadline and a size bound for each
request's line and headers.

httptools (llhttp, in C) parses a request for about half the CPU of h11 (pure Python):
~140 µs against ~270 µs for a whole trivial request and answer on this machine, which is
most of what a cached answer costs. Neither bounds the time a head takes to arrive:
uvicorn's only timer is the keep-alive one, armed after a response and cancelled by the
first byte of the next request. A client that opens a connection and sends one header
byte every few seconds (slowloris) would hold it for ever, and enough of them exhaust
the server's file descriptors. Here a timer is armed when a connection opens and again
whenever it waits for the next request; it is cancelled as soon as the whole head is
parsed. When it fires, a client that had started a request gets 408 and the connection
is closed (an idle one is closed silently, as a browser's pre-opened connection
expects). The timer is a loop callback: a slow client costs a handle, never a blocked
worker, so other clients are not stalled.

llhttp does not bound a head's size either (h11 stopped at 16 KiB), and httptools keeps
a header's value until it is complete: the bytes that arrive while a head is awaited are
counted, and once more than ``MAX_HEAD_BYTES`` have come without a complete head the
client gets 431 and the connection is closed (what is held is at most that plus one read).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
#: The largest request line and headers taken, as h11 took (its incomplete-event limit).
MAX_HEAD_BYTES = 16 * 1024


def _json_response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


_TIMEOUT_RESPONSE = _json_response(
    b"408 Request Timeout",
    b'{"error":"request_timeout","detail":"the request headers arrived too slowly; send them again"}',
)
_TOO_LARGE_RESPONSE = _json_response(
    b"431 Request Header Fields Too Large",
    b'{"error":"headers_too_large","detail":"the request line and headers may take at most 16 KiB"}',
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that closes a connection whose request head is not
    complete within ``header_timeout`` seconds of the connection opening or of the
    previous response ending, or grows past ``max_head_bytes``."""

    def __init__(
        self,
        *args: Any,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
        max_head_bytes: int = MAX_HEAD_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_head_bytes = max_head_bytes
        self._head_deadline: asyncio.TimerHandle | None = None
        self._in_head = False
        """A request's first byte has arrived and its head is not complete yet."""
        self._head_bytes = 0
        """Bytes received since the deadline was armed (the head awaited, or begun)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        awaiting_head = self._head_deadline is not None
        if awaiting_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still no complete head (the deadline is cancelled by one) after this much.
        if awaiting_head and self._head_deadline is not None and self._head_bytes > self.max_head_bytes:
            self._cancel_deadline()
            if not self.transport.is_closing():
                self.logger.warning("request head larger than %d bytes; closing the connection", self.max_head_bytes)
                self.transport.write(_TOO_LARGE_RESPONSE)
                self.transport.close()

    # Parser callbacks (httptools calls them while data_received feeds it).
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Waiting for the next request on a kept-alive connection; a pipelined one whose
        # head is already complete has started and needs no deadline.
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._head_bytes = 0
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self.logger.warning(
                "request headers not complete after %.1f s; closing the connection", self.header_timeout
            )
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def header_deadline_protocol(header_timeout: float) -> Any:
    """The ``http`` option for :class:`uvicorn.Config`: the protocol with this deadline.
    A partial of a module-level class, so a config sent to a spawned worker pickles."""
    return functools.partial(GuardedHttpToolsProtocol, header_timeout=header_timeout)
