"""A consent the requester has not collected yet (code issued, not exchanged) is listed as
pending and can be withdrawn; withdrawing it voids the code (security finding 5)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Backend
from tests.locker.conftest import sign_in
from tests.locker.test_oauth import access_token, approve, csrf_of, exchange


def test_a_pending_grant_is_listed_and_withdrawing_it_voids_the_code(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)  # the citizen allowed it; the requester has the code only
    citizen = sign_in(client, backend, approved.mobile)

    [grant] = client.get("/api/v1/locker/grants", headers=citizen).json()
    assert grant["pending"] is True
    assert grant["name"] == approved.requester.name
    assert grant["types"] == ["income-certificate"]
    assert client.delete(f"/api/v1/locker/grants/{grant['id']}", headers=citizen).status_code == 204

    refused = exchange(client, approved.requester, approved.code, approved.verifier)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    assert client.get("/api/v1/locker/grants", headers=citizen).json() == []


def test_a_grant_stops_being_pending_once_exchanged(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    citizen = sign_in(client, backend, approved.mobile)
    pending = client.get("/api/v1/locker/grants", headers=citizen).json()

    access_token(client, approved)

    [live] = client.get("/api/v1/locker/grants", headers=citizen).json()
    assert [g["pending"] for g in pending] == [True]
    assert (live["id"], live["pending"]) == (pending[0]["id"], False)


def test_the_connected_page_marks_a_pending_grant_and_revokes_it(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)  # the browser stays signed in as this citizen

    page = client.get("/locker/connected")
    assert page.status_code == 200
    assert approved.requester.name in page.text
    assert 'data-pending="true"' in page.text
    assert 'data-testid="pending"' in page.text
    grant_id = re.search(r'data-grant="([^"]+)"', page.text)
    assert grant_id

    done = client.post(
        f"/locker/connected/{grant_id.group(1)}/revoke", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert exchange(client, approved.requester, approved.code, approved.verifier).json()["error"] == "invalid_grant"
    assert 'data-testid="no-grants"' in client.get(done.headers["location"]).text
