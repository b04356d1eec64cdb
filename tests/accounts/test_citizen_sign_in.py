"""Signing in with a one-time code: limits, expiry, brute force, sessions, channel outage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts import citizens
from accounts.citizens import OtpPolicy
from accounts.models import OtpChallenge
from app.factory import create_app
from sanad.notify import WebhookChannel
from tests.conftest import Backend, client_address
from tests.locker.conftest import latest_code, new_mobile, sign_in


def request_code(client: TestClient, mobile: str) -> dict[str, object]:
    response = client.post("/api/v1/locker/otp", json={"mobile": mobile})
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def submit(client: TestClient, mobile: str, code: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/locker/session", json={"mobile": mobile, "code": code})
    return response.status_code, response.json()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_signs_in_and_the_session_token_opens_the_locker(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    sent = request_code(client, f"+91 {mobile[:5]} {mobile[5:]}")

    assert sent["mobile"] == f"{mobile[:2]}xxxxxx{mobile[-2:]}"
    status, body = submit(client, mobile, latest_code(backend, mobile))
    assert status == 200
    assert body["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/locker/documents", headers=headers).status_code == 200


def test_sign_out_ends_the_session(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    assert client.delete("/api/v1/locker/session", headers=headers).status_code == 204
    assert client.get("/api/v1/locker/documents", headers=headers).status_code == 401


def test_no_token_and_a_forged_token_are_refused(client: TestClient) -> None:
    assert client.get("/api/v1/locker/documents").status_code == 401
    forged = {"Authorization": "Bearer not-a-real-session-token"}
    assert client.get("/api/v1/locker/documents", headers=forged).status_code == 401


def test_a_number_that_is_not_a_mobile_gets_a_clear_422(client: TestClient) -> None:
    response = client.post("/api/v1/locker/otp", json={"mobile": "12345"})

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "mobile"
    assert "10-digit" in response.json()["fields"][0]["message"]


def test_wrong_codes_count_down_then_void_the_code(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    request_code(client, mobile)
    code = latest_code(backend, mobile)

    answers = [submit(client, mobile, wrong(code)) for _ in range(5)]
    assert [a[1]["detail"] for a in answers[:4]] == [
        f"wrong code; {n} attempt{'s' if n > 1 else ''} left" for n in (4, 3, 2, 1)
    ]
    assert answers[4][0] == 401
    assert answers[4][1]["error"] == "code_void"
    # Even the right code no longer works: brute force gets five guesses per code.
    status, body = submit(client, mobile, code)
    assert status == 401
    assert body["error"] == "code_void"


def test_a_code_works_once(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    request_code(client, mobile)
    code = latest_code(backend, mobile)

    assert submit(client, mobile, code)[0] == 200
    status, body = submit(client, mobile, code)
    assert status == 401
    assert body["error"] == "code_void"


def test_a_new_code_voids_the_previous_one(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    request_code(client, mobile)
    first = latest_code(backend, mobile)
    request_code(client, mobile)
    second = latest_code(backend, mobile)

    if first != second:
        assert submit(client, mobile, first)[0] == 401
    assert submit(client, mobile, second)[0] == 200


def test_a_code_expires_after_five_minutes(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        request_code(client, mobile)
    code = latest_code(backend, mobile)

    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        status, body = submit(client, mobile, code)
    assert status == 401
    assert body["error"] == "code_void"


def test_three_codes_per_number_per_quarter_hour_then_429_says_when(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            request_code(client, mobile)
        refused = client.post("/api/v1/locker/otp", json={"mobile": mobile})

    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 14 * 60 < wait <= 15 * 60 + 1
    assert refused.json()["retry_after_seconds"] == wait
    assert "try again in 15 minutes" in refused.json()["detail"]
    with time_machine.travel(start + timedelta(seconds=wait), tick=False):
        assert client.post("/api/v1/locker/otp", json={"mobile": mobile}).status_code == 202


def test_one_address_cannot_spray_codes_at_many_numbers(backend: Backend) -> None:
    with TestClient(create_app(context=backend.context), client=client_address()) as client:
        for _ in range(20):
            request_code(client, new_mobile())
        refused = client.post("/api/v1/locker/otp", json={"mobile": new_mobile()})

    assert refused.status_code == 429
    assert "from this address" in refused.json()["detail"]


def test_repeated_wrong_codes_block_the_number_for_an_hour(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            request_code(client, mobile)
            code = latest_code(backend, mobile)
            for _ in range(5):
                submit(client, mobile, wrong(code))
        refused = client.post("/api/v1/locker/otp", json={"mobile": mobile})

    assert refused.status_code == 429
    assert "too many wrong codes" in refused.json()["detail"]
    assert 59 * 60 < int(refused.headers["Retry-After"]) <= 3601


def test_sessions_expire(client: TestClient, backend: Backend) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        headers = sign_in(client, backend, new_mobile())
    with time_machine.travel(start + timedelta(hours=12, seconds=1), tick=False):
        response = client.get("/api/v1/locker/documents", headers=headers)

    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]


def test_message_channel_down_is_503_and_leaves_no_code(backend: Backend) -> None:
    mobile = new_mobile()
    # Nothing listens on port 9: the gateway is down.
    context = replace(backend.context, channel=WebhookChannel("http://127.0.0.1:9/send", None, timeout_seconds=1))
    with TestClient(create_app(context=context), client=client_address()) as client:
        response = client.post("/api/v1/locker/otp", json={"mobile": mobile})

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OtpChallenge).where(OtpChallenge.mobile == mobile)) == 0


def test_purge_forgets_only_what_no_limit_can_use(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        headers = sign_in(client, backend, mobile)

    with backend.context.sessions() as s:
        assert citizens.purge(s, OtpPolicy(), start + timedelta(minutes=30))["auth_events"] == 0
    assert client.get("/api/v1/locker/documents", headers=headers).status_code == 200
    with backend.context.sessions() as s:
        counts = citizens.purge(s, OtpPolicy(), start + timedelta(days=2))
        left = s.scalar(select(func.count()).select_from(OtpChallenge).where(OtpChallenge.mobile == mobile))
    assert counts["auth_events"] >= 1
    assert counts["limit_keys"] >= 1
    assert "unconfirmed_emails" in counts
    assert counts["otp_challenges"] >= 1
    assert counts["locker_sessions"] >= 1
    assert left == 0
