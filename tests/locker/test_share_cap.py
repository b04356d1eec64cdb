"""A document has a bounded number of live share links, however many are asked for at once."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.concurrency import at_once, live_server
from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in


def test_twenty_links_asked_for_at_once_make_exactly_the_cap(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    shares = f"/api/v1/locker/documents/{document['id']}/shares"

    with live_server(backend, locker_max_live_shares=3) as url:
        answers = at_once(20, lambda _: httpx.post(url + shares, json={}, headers=headers, timeout=30))
        made = [a.json() for a in answers if a.status_code == 201]
        revoked = httpx.delete(f"{url}/api/v1/locker/shares/{made[0]['id']}", headers=headers)
        after_revoking = httpx.post(url + shares, json={}, headers=headers)
        over_again = httpx.post(url + shares, json={}, headers=headers)

    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 17
    refused = next(a.json() for a in answers if a.status_code == 409)
    assert refused == {
        "error": "conflict",
        "detail": "this document already has 3 live share links: revoke one to make another",
    }
    assert revoked.status_code in (200, 204)
    assert after_revoking.status_code == 201  # a revoked link no longer counts
    assert over_again.status_code == 409
