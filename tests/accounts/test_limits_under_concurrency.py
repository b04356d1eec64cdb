"""Every sign-in limit holds when the requests it counts arrive at once: twenty requests
are released together against a real server, and exactly the limit gets through."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from accounts import citizens, staff
from accounts.citizens import FAILED, OtpPolicy
from accounts.exceptions import WrongCode
from accounts.models import AuthEvent, OtpChallenge, StaffRole, StaffSignInFailure
from sanad.errors import TooManyRequests
from sanad.models import DevMessage
from sanad.notify import LogChannel
from tests.concurrency import at_once, from_address, live_server
from tests.conftest import Backend
from tests.locker.conftest import latest_code, new_mobile

OTP = "/api/v1/locker/otp"
SESSION = "/api/v1/locker/session"
PASSWORD = "correct horse battery staple"


def wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def count(backend: Backend, query: object) -> int:
    with backend.context.sessions() as s:
        return int(s.scalar(query) or 0)  # type: ignore[call-overload]


def test_twenty_code_requests_for_one_number_send_exactly_three(backend: Backend) -> None:
    mobile, address = new_mobile(), from_address()
    with live_server(backend) as url:
        answers = at_once(20, lambda _: httpx.post(url + OTP, json={"mobile": mobile}, headers=address, timeout=30))

    assert statuses(answers) == [202] * 3 + [429] * 17
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) > 14 * 60
    assert "too many codes sent to this number" in refused.json()["detail"]
    assert count(backend, select(func.count()).where(OtpChallenge.mobile == mobile)) == 3
    assert count(backend, select(func.count()).where(DevMessage.recipient == mobile)) == 3


def test_codes_from_one_address_stop_at_twenty_however_they_arrive(backend: Backend) -> None:
    address = from_address()
    with live_server(backend) as url:
        for _ in range(10):
            assert httpx.post(url + OTP, json={"mobile": new_mobile()}, headers=address).status_code == 202
        answers = at_once(
            20, lambda _: httpx.post(url + OTP, json={"mobile": new_mobile()}, headers=address, timeout=30)
        )

    assert statuses(answers) == [202] * 10 + [429] * 10
    assert all("from this address" in a.json()["detail"] for a in answers if a.status_code == 429)


def test_twenty_guesses_at_one_code_compare_exactly_five(backend: Backend) -> None:
    mobile, address = new_mobile(), from_address()
    with live_server(backend) as url:
        assert httpx.post(url + OTP, json={"mobile": mobile}, headers=address).status_code == 202
        code = latest_code(backend, mobile)
        answers = at_once(
            20,
            lambda n: httpx.post(url + SESSION, json={"mobile": mobile, "code": wrong(code, n + 1)}, headers=address),
        )
        right_code_after = httpx.post(url + SESSION, json={"mobile": mobile, "code": code}, headers=address)

    compared = [a for a in answers if a.json()["detail"].startswith("wrong code")]
    assert len(compared) == 5
    assert all(a.status_code == 401 for a in answers)
    assert sum(a.json()["error"] == "code_void" for a in answers) == 16  # 15 refused, and the 5th wrong one
    assert count(backend, select(OtpChallenge.attempts).where(OtpChallenge.mobile == mobile)) == 5
    failures = select(func.count()).where(AuthEvent.kind == FAILED, AuthEvent.mobile == mobile)
    assert count(backend, failures) == 5
    assert right_code_after.status_code == 401
    assert right_code_after.json()["error"] == "code_void"


def _add_staff(backend: Backend) -> str:
    username = f"officer-{secrets.token_hex(4)}"
    with backend.context.sessions() as s:
        staff.add_staff(
            s,
            username=username,
            password=PASSWORD,
            full_name="Test Officer",
            role=StaffRole.HEAD_OFFICE,
            department_id=None,
            office_code=None,
            now=datetime.now(UTC),
        )
        s.commit()
    return username


def test_twenty_wrong_passwords_at_once_check_exactly_five(backend: Backend) -> None:
    username = _add_staff(backend)
    with live_server(backend) as url:
        answers = at_once(
            20,
            lambda n: httpx.post(
                url + "/api/v1/staff/session",
                json={"username": username, "password": f"wrong password {n}"},
                headers=from_address(),
                timeout=30,
            ),
        )
        right_password_after = httpx.post(
            url + "/api/v1/staff/session", json={"username": username, "password": PASSWORD}, headers=from_address()
        )

    assert statuses(answers) == [401] * 5 + [429] * 15
    assert count(backend, select(func.count()).where(StaffSignInFailure.username == username)) == 5
    assert right_password_after.status_code == 429
    assert "too many failed sign-ins" in right_password_after.json()["detail"]


def test_a_right_password_is_not_counted_as_a_failure(backend: Backend) -> None:
    username = _add_staff(backend)
    with live_server(backend) as url:
        for attempt in ("wrong password 1", PASSWORD, "wrong password 2", PASSWORD):
            httpx.post(url + "/api/v1/staff/session", json={"username": username, "password": attempt})

    assert count(backend, select(func.count()).where(StaffSignInFailure.username == username)) == 2


# The number's and the address's limits on wrong codes, at the service with a policy that
# lets one code take many guesses, so that the per-code limit does not hide them.


def _send_codes(backend: Backend, policy: OtpPolicy, mobiles: list[str]) -> None:
    with backend.context.sessions() as s:
        for mobile in mobiles:
            ip = from_address()["X-Forwarded-For"]
            citizens.send_code(
                s, LogChannel(), backend.settings.secret_key, policy, mobile=mobile, ip=ip, now=datetime.now(UTC)
            )
        s.commit()


def _guess(backend: Backend, policy: OtpPolicy, mobile: str, ip: str) -> str:
    """One wrong guess in a session of its own: what came of it."""
    with backend.context.sessions() as s:
        try:
            citizens.sign_in(
                s,
                backend.settings.secret_key,
                policy,
                mobile=mobile,
                code="not a code",
                ip=ip,
                now=datetime.now(UTC),
                session_lifetime=timedelta(hours=1),
            )
        except WrongCode:
            return "compared"
        except TooManyRequests:
            return "refused"
    pytest.fail("a wrong code signed in")


def test_wrong_codes_for_one_number_stop_at_its_limit_however_they_arrive(backend: Backend) -> None:
    policy = OtpPolicy(attempts_per_code=100, failures_per_mobile=10)
    mobile, ip = new_mobile(), from_address()["X-Forwarded-For"]
    _send_codes(backend, policy, [mobile])

    outcomes = at_once(20, lambda _: _guess(backend, policy, mobile, ip))

    assert sorted(outcomes) == ["compared"] * 10 + ["refused"] * 10


def test_wrong_codes_from_one_address_stop_at_its_limit_however_they_arrive(backend: Backend) -> None:
    policy = OtpPolicy(failures_per_ip=7)
    mobiles, ip = [new_mobile() for _ in range(20)], from_address()["X-Forwarded-For"]
    _send_codes(backend, policy, mobiles)

    outcomes = at_once(20, lambda n: _guess(backend, policy, mobiles[n], ip))

    assert sorted(outcomes) == ["compared"] * 7 + ["refused"] * 13
