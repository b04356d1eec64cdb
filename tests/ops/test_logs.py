"""Structured logs: one JSON object a line, the request id on every line a request
writes, and no secret or personal data in any of them."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sanad.logs import JsonFormatter, scrub
from sanad.settings import Environment, Settings
from tests.conftest import Backend, IssuingDepartment, income_certificate
from tests.locker.conftest import latest_code, new_mobile


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Every log line of the test, as the server writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    # The test client's own lines (httpx) are not the server's.
    handler.addFilter(lambda record: not record.name.startswith("httpx"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_a_valid_incoming_request_id_is_kept_and_returned(client: TestClient, logs: Captured) -> None:
    request_id = f"req-{secrets.token_hex(8)}"

    answer = client.get("/health", headers={"X-Request-ID": request_id})

    assert answer.headers["X-Request-ID"] == request_id
    access = [line for line in logs.lines if line["logger"] == "sanad.access"]
    assert access[-1]["request_id"] == request_id


@pytest.mark.parametrize("offered", ["", "short", "has spaces in it", "x" * 200, "semi;colon;injected"])
def test_a_malformed_request_id_is_replaced_by_a_new_one(client: TestClient, offered: str) -> None:
    answer = client.get("/health", headers={"X-Request-ID": offered})

    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_each_request_without_an_id_gets_its_own(client: TestClient) -> None:
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]

    assert first != second
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_the_access_line_carries_the_request_fields(client: TestClient, logs: Captured) -> None:
    document_id = secrets.token_hex(8).upper()
    answer = client.get(f"/v/{document_id}?mobile=9876543210", headers={"Accept": "application/json"})

    access = [line for line in logs.lines if line["logger"] == "sanad.access"][-1]
    assert set(access) >= {"time", "level", "logger", "message", "request_id", "method", "route", "status"}
    assert access["request_id"] == answer.headers["X-Request-ID"]
    assert access["method"] == "GET"
    assert access["route"] == "/v/{document_id}"
    assert access["status"] == answer.status_code == 404
    assert isinstance(access["duration_ms"], float)
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")
    assert document_id not in logs.text
    assert "9876543210" not in logs.text


def _delivered_in_development(line: dict[str, Any]) -> bool:
    """The development channel's own delivery line (``SANAD_NOTIFY_CHANNEL=log``)."""
    return line["logger"] == "sanad.notify" and line["message"].startswith("[dev message to ")


def test_lines_written_during_a_request_carry_its_id(client: TestClient, logs: Captured) -> None:
    answer = client.post("/api/v1/locker/otp", json={"mobile": new_mobile()})

    assert answer.status_code == 202
    request_id = answer.headers["X-Request-ID"]
    written = [line for line in logs.lines if line.get("request_id") == request_id]
    # The development channel's line and the access line at least.
    assert {line["logger"] for line in written} >= {"sanad.notify", "sanad.access"}
    assert all(line["route"] == "/api/v1/locker/otp" for line in written)


def test_api_keys_mobiles_and_sign_in_codes_are_never_logged(
    client: TestClient, backend: Backend, dept: IssuingDepartment, logs: Captured
) -> None:
    mobile = new_mobile()
    client.post("/api/v1/locker/otp", json={"mobile": mobile})
    code = latest_code(backend, mobile)
    client.post("/api/v1/locker/session", json={"mobile": mobile, "code": code})
    client.post("/api/v1/locker/session", json={"mobile": mobile, "code": "000000"})
    client.post("/api/v1/documents", json={**income_certificate(), "citizen_mobile": mobile}, headers=dept.headers)
    wrong_key = f"sk_{dept.department.code.lower()}_{secrets.token_urlsafe(16)}"
    client.post("/api/v1/documents", json=income_certificate(), headers={"Authorization": f"Bearer {wrong_key}"})
    client.get("/api/v1/applications/track", params={"number": "PB-REV-INC-2026-000001", "mobile": mobile})
    logging.getLogger("sanad.test").warning("client sent Authorization: Bearer %s for %s", dept.api_key, mobile)

    lines = logs.lines
    assert len(lines) > 5  # something was written, and every line is JSON
    # Only the development channel's delivery carries the code and the number: it is
    # how that channel delivers, and production refuses the channel.
    # What a line says (not its ids, times and durations, whose digits may match a code).
    text = "\n".join(
        f"{line['message']} {line.get('error', '')}" for line in lines if not _delivered_in_development(line)
    )
    # The key's secret is everything after "sk_<department>_"; it may itself hold "_".
    key_secret = dept.api_key.split("_", 2)[2]
    for secret in (dept.api_key, key_secret, wrong_key, mobile, code):
        assert secret not in text
    with pytest.raises(ValueError, match="would write one-time passwords to the log"):
        Settings(
            _env_file=None,
            env=Environment.PRODUCTION,
            secret_key="s" * 40,
            database_url="postgresql+psycopg://u:p@h/d",
            tsa_url="https://tsa.example",
            pki_responder=False,
            notify_channel="log",
        )


def test_a_traceback_is_one_json_line_and_scrubbed(logs: Captured) -> None:
    try:
        raise RuntimeError("gateway refused 9812345678 with key sk_rev_abcdefghijkl")
    except RuntimeError:
        logging.getLogger("sanad.test").exception("sending failed")

    (line,) = logs.lines
    assert line["level"] == "ERROR"
    assert "RuntimeError" in line["error"]
    assert "9812345678" not in logs.text
    assert "abcdefghijkl" not in logs.text
    assert "request_id" not in line  # written outside any request


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("to 9876543210 now", "9876543210"),
        ("to +91 98765 43210 now", "98765 43210"),
        ("to +91-9876543210", "9876543210"),
        ("to 09876543210", "9876543210"),
        ("Your Sanad code is 482913.", "482913"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("key sk_rev_Zx9-_kk2", "Zx9-_kk2"),
        ('{"password": "hunter2!"}', "hunter2!"),
        ("token=abcdef123&next=/", "abcdef123"),
        ("SANAD_PKCS11_PIN=1234", "1234"),
    ],
)
def test_scrub_hides_secrets_and_personal_data(text: str, hidden: str) -> None:
    assert hidden not in scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        "application PB-REV-INC-2026-000123 approved",
        "GET /v/{document_id} 200",
        "issued 12 documents in 340 ms",
        "document 01HZX4K9Q2V7 stored",
    ],
)
def test_scrub_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub(text) == text
