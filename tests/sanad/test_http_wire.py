"""The kept-alive clients' HTTP/1.1 exchange (``sanad.http_wire``): answers delimited each
way HTTP allows, interim answers skipped, oversized bodies cut, and what is not an answer
refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from sanad.http_wire import (
    Answer,
    BadAnswer,
    ClosedBeforeAnswer,
    read_answer,
    request_head,
    send_request,
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    client.settimeout(5)
    with client, server:
        yield client, server


def answer_to(
    pair: tuple[socket.socket, socket.socket], raw: bytes, *, close: bool = False, limit: int = 1000
) -> Answer:
    client, server = pair
    server.sendall(raw)
    if close:
        server.shutdown(socket.SHUT_WR)
    return read_answer(client, body_limit=limit)


def test_a_content_length_body_is_read_and_the_connection_kept(pair: tuple[socket.socket, socket.socket]) -> None:
    raw = (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: Text/Plain; charset=utf-8\r\nContent-Length: 4\r\n\r\nbusy"
    )
    answer = answer_to(pair, raw + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert (answer.status, answer.reason, answer.content_type, answer.body) == (
        503,
        "Service Unavailable",
        "text/plain",
        b"busy",
    )
    # The next answer's bytes arrived with this one: not reusable (they would be lost).
    assert not answer.reusable


def test_a_whole_answer_alone_leaves_the_connection_reusable(pair: tuple[socket.socket, socket.socket]) -> None:
    answer = answer_to(pair, b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc")
    assert (answer.body, answer.reusable) == (b"abc", True)


def test_a_chunked_body_is_put_together_with_its_trailers_read(pair: tuple[socket.socket, socket.socket]) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw = head + b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
    answer = answer_to(pair, raw)
    assert (answer.body, answer.reusable) == (b"abc0123456789", True)


def test_a_body_up_to_the_close_is_read_and_the_connection_not_kept(pair: tuple[socket.socket, socket.socket]) -> None:
    answer = answer_to(pair, b"HTTP/1.0 200 OK\r\nContent-Type: application/timestamp-reply\r\n\r\ntoken", close=True)
    assert (answer.body, answer.content_type, answer.reusable) == (b"token", "application/timestamp-reply", False)


def test_connection_close_is_heeded(pair: tuple[socket.socket, socket.socket]) -> None:
    answer = answer_to(pair, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    assert (answer.body, answer.reusable) == (b"ok", False)


def test_interim_answers_are_skipped(pair: tuple[socket.socket, socket.socket]) -> None:
    answer = answer_to(pair, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert (answer.status, answer.body, answer.reusable) == (201, b"", True)


def test_no_content_type_is_text_plain(pair: tuple[socket.socket, socket.socket]) -> None:
    assert answer_to(pair, b"HTTP/1.1 204 No Content\r\n\r\n").content_type == "text/plain"


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b"x" * 20,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n" + b"x" * 20 + b"\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"5\r\nxxxxx\r\n" * 4 + b"0\r\n\r\n",
    ],
)
def test_a_body_over_the_limit_is_cut_one_byte_past_it(pair: tuple[socket.socket, socket.socket], raw: bytes) -> None:
    answer = answer_to(pair, raw, limit=10)
    assert (answer.body, answer.reusable) == (b"x" * 11, False)


def test_a_connection_closed_before_any_answer_may_be_retried(pair: tuple[socket.socket, socket.socket]) -> None:
    with pytest.raises(ClosedBeforeAnswer):
        answer_to(pair, b"", close=True)
    assert issubclass(ClosedBeforeAnswer, ConnectionError)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "closed in the middle"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "longer than its size"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "head is too long"),
    ],
)
def test_what_is_not_an_answer_is_refused(pair: tuple[socket.socket, socket.socket], raw: bytes, message: str) -> None:
    with pytest.raises(BadAnswer, match=message):
        answer_to(pair, raw, close=True)


def test_a_line_break_in_the_head_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        request_head("POST", "/tsa", {"X-Note": "a\r\nHost: elsewhere"}, 0)


def test_a_request_is_sent_whole_with_its_length(pair: tuple[socket.socket, socket.socket]) -> None:
    client, server = pair
    body = b"q" * 100
    send_request(client, request_head("POST", "/tsa", {"Host": "tsa.example"}, len(body)), body)
    received = b""
    while len(received) < 200:
        received += server.recv(4096)
        if received.endswith(body):
            break
    assert received == b"POST /tsa HTTP/1.1\r\nHost: tsa.example\r\nContent-Length: 100\r\n\r\n" + body
