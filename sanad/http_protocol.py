"""uvicorn's HTTP/1.1 protocol with a deadline for each request's line and headers.

uvicorn bounds the size of a request's head (h11's incomplete-event limit, 16 KiB) but
not the time it takes to arrive: its only timer is the keep-alive one, armed after a
response and cancelled by the first byte of the next request. A client that opens a
connection and sends one header byte every few seconds (slowloris) would hold it for
ever, and enough of them exhaust the server's file descriptors. Here a timer is armed
when a connection opens and again whenever it waits for the next request; it is
cancelled as soon as h11 has the whole head. When it fires, a client that had started a
request gets 408 and the connection is closed (an idle one is closed silently, as a
browser's pre-opened connection expects). The timer is a loop callback: a slow client
costs a handle, never a blocked worker, so other clients are not stalled.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0

_TIMEOUT_BODY = b'{"error":"request_timeout","detail":"the request headers arrived too slowly; send them again"}'
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


class HeaderDeadlineH11Protocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose request head is not complete
    within ``header_timeout`` seconds of the connection opening or of the previous
    response ending."""

    def __init__(self, *args: Any, header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        self._head_started = True
        super().data_received(data)
        if self._head_deadline is not None and self.conn.their_state is not h11.IDLE:
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Waiting for the next request on a kept-alive connection; a pipelined one that
        # is already complete moved h11 on from IDLE and needs no deadline.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._head_started = bool(self.conn.trailing_data[0])
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._head_started:
            self.logger.warning(
                "request headers not complete after %.1f s; closing the connection", self.header_timeout
            )
            # Written directly: h11 sends a response only after a request it has read.
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def header_deadline_protocol(header_timeout: float) -> Any:
    """The ``http`` option for :class:`uvicorn.Config`: the protocol with this deadline.
    A partial of a module-level class, so a config sent to a spawned worker pickles."""
    return functools.partial(HeaderDeadlineH11Protocol, header_timeout=header_timeout)
