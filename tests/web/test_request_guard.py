"""One request cannot make the server do unbounded work: body limits hold for chunked
bodies too, JSON bodies are bounded in shape, error answers are short, and a body that
trickles in is given up on. Run against a real uvicorn server over sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from app.factory import MAX_LISTED_ERRORS, create_app
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend

OTP = "/api/v1/locker/otp"


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    settings = backend.context.settings.model_copy(update={"body_read_timeout_seconds": 1.0})
    with serve_in_thread(create_app(context=replace(backend.context, settings=settings))) as url:
        yield url


def unknown_keys(count: int) -> bytes:
    return json.dumps({"mobile": "9876543210", **{f"k{i}": 0 for i in range(count)}}).encode()


def test_a_million_keys_are_refused_at_once_and_health_stays_fast(server: str) -> None:
    body = unknown_keys(1_000_000)  # ~12 MB
    started = time.monotonic()
    response = httpx.post(server + OTP, content=body, headers={"Content-Type": "application/json"}, timeout=30)
    elapsed = time.monotonic() - started

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert "1 MB" in response.json()["detail"]
    assert len(response.content) < 500
    assert elapsed < 2


def test_many_keys_within_the_size_limit_are_refused_by_shape(server: str) -> None:
    response = httpx.post(server + OTP, content=unknown_keys(5_000), headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    detail = "the JSON body has more than 1000 members"
    assert response.json() == {
        "error": "invalid_input",
        "detail": detail,
        "fields": [{"field": "body", "message": detail}],
    }


def test_a_json_body_that_is_not_utf8_is_422_naming_the_body(server: str) -> None:
    # FastAPI answered these 400, a status the document did not list (schemathesis found it).
    response = httpx.post(server + OTP, content=b'{"mobile": "\xff\xfe"}', headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    detail = "the JSON body is not UTF-8 text"
    assert response.json() == {
        "error": "invalid_input",
        "detail": detail,
        "fields": [{"field": "body", "message": detail}],
    }


def test_deep_nesting_is_refused(server: str) -> None:
    deep = b'{"mobile": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    response = httpx.post(server + OTP, content=deep, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert "nested deeper than 16 levels" in response.json()["detail"]


def test_validation_errors_are_listed_up_to_a_bound(server: str) -> None:
    response = httpx.post(server + OTP, json={"mobile": "9876543210", **{f"k{i}": 0 for i in range(300)}})

    assert response.status_code == 422
    body = response.json()
    assert len(body["fields"]) == MAX_LISTED_ERRORS
    assert body["fields"][0] == {"field": "k0", "message": "unknown field"}
    assert body["detail"].endswith(f"and {300 - MAX_LISTED_ERRORS} more problems")


def chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_a_chunked_json_body_is_held_to_the_json_limit(server: str) -> None:
    # No Content-Length: the limit must be counted as the body arrives.
    with httpx.Client(timeout=30) as client:
        response = client.post(server + OTP, content=chunks(200 * 2**20), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_chunked_upload_is_held_to_the_upload_limit(server: str, backend: Backend) -> None:
    limit = backend.context.settings.max_upload_bytes
    boundary = "sanadboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from chunks(limit + 2**20)

    with httpx.Client(timeout=30) as client:
        response = client.post(
            server + "/api/v1/verify",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_body_that_trickles_in_is_given_up_on(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST {OTP} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{".encode()
        )
        started = time.monotonic()
        received = b""
        while piece := connection.recv(4096):  # the server closes the connection after its answer
            received += piece
        elapsed = time.monotonic() - started
        answer = received.decode()

    assert answer.startswith("HTTP/1.1 408")
    assert "request_timeout" in answer
    assert elapsed < 5


def test_a_wrong_method_names_the_allowed_ones(server: str) -> None:
    response = httpx.put(server + "/health")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["error"] == "method_not_allowed"


def test_security_headers_on_every_answer(server: str) -> None:
    response = httpx.get(server + "/health")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_lone_surrogate_is_refused_before_any_handler(server: str, backend: Backend) -> None:
    body = b'{"mobile": "98765\\ud80043210"}'

    response = httpx.post(server + OTP, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert "lone surrogate" in response.json()["detail"]


def test_a_lone_surrogate_in_a_key_is_refused(server: str) -> None:
    response = httpx.post(server + OTP, content=b'{"\\udfff": 1}', headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert "lone surrogate" in response.json()["detail"]
