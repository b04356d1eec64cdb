"""Guessing application numbers is limited however the guesses arrive: twenty at once
against a real server, and exactly the limit of them is looked up."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from accounts.models import AuthEvent
from intake.applications import TRACK_MISS, TRACK_MISS_LIMIT
from tests.concurrency import at_once, from_address, live_server
from tests.conftest import Backend
from tests.locker.conftest import new_mobile

TRACK = "/api/v1/applications/track"


def test_twenty_misses_at_once_are_held_to_the_limit(backend: Backend) -> None:
    address = from_address()
    ip = address["X-Forwarded-For"]
    with live_server(backend) as url:

        def guess(n: int) -> httpx.Response:
            params = {"number": f"PB-REV-INC-2026-{900000 + n:06d}", "mobile": new_mobile()}
            return httpx.get(url + TRACK, params=params, headers=address, timeout=30)

        earlier = [guess(n).status_code for n in range(10)]
        answers = at_once(20, lambda n: guess(100 + n))

    assert earlier == [404] * 10
    assert sorted(a.status_code for a in answers) == [404] * 10 + [429] * 10
    assert TRACK_MISS_LIMIT.count == 20
    refused = next(a for a in answers if a.status_code == 429)
    assert "too many numbers tried" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    with backend.context.sessions() as s:
        misses = s.scalar(select(func.count()).where(AuthEvent.kind == TRACK_MISS, AuthEvent.ip == ip))
    assert misses == 20
