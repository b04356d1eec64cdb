"""Citizen A can never reach citizen B's documents, uploads, shares or log — by any route.

Every row is one way of asking; each answers exactly as if the item did not exist (404),
so ids cannot even be probed. OAuth requester tokens have their own matrix in test_oauth.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in
from tests.locker.test_uploads import PDF, upload


@dataclass
class Citizen:
    headers: dict[str, str]
    document_id: str
    upload_id: str
    share_id: str


def make_citizen(client: TestClient, backend: Backend, dept: IssuingDepartment) -> Citizen:
    mobile = new_mobile()
    document_id = str(issue_to(client, dept, mobile)["id"])
    headers = sign_in(client, backend, mobile)
    upload_id = upload(client, headers, "own.pdf", PDF, "application/pdf").json()["id"]
    share_id = client.post(f"/api/v1/locker/documents/{document_id}/shares", json={}, headers=headers).json()["id"]
    return Citizen(headers, document_id, upload_id, share_id)


Attempt = Callable[[TestClient, Citizen, Citizen], httpx.Response]

ATTEMPTS: dict[str, Attempt] = {
    "read the record": lambda c, a, b: c.get(f"/api/v1/locker/documents/{b.document_id}", headers=a.headers),
    "download the PDF": lambda c, a, b: c.get(
        f"/api/v1/locker/documents/{b.document_id}/content", headers=a.headers, follow_redirects=False
    ),
    "share it": lambda c, a, b: c.post(f"/api/v1/locker/documents/{b.document_id}/shares", json={}, headers=a.headers),
    "list its shares": lambda c, a, b: c.get(f"/api/v1/locker/documents/{b.document_id}/shares", headers=a.headers),
    "revoke B's share": lambda c, a, b: c.delete(f"/api/v1/locker/shares/{b.share_id}", headers=a.headers),
    "read its access log": lambda c, a, b: c.get(
        f"/api/v1/locker/access-log?document_id={b.document_id}", headers=a.headers
    ),
    "download B's upload": lambda c, a, b: c.get(f"/api/v1/locker/uploads/{b.upload_id}/content", headers=a.headers),
    "delete B's upload": lambda c, a, b: c.delete(f"/api/v1/locker/uploads/{b.upload_id}", headers=a.headers),
}


@pytest.mark.parametrize("attempt", ATTEMPTS.keys())
def test_a_cannot_reach_bs_items(attempt: str, client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    a, b = make_citizen(client, backend, dept), make_citizen(client, backend, dept)

    response = ATTEMPTS[attempt](client, a, b)

    assert response.status_code == 404, response.text
    assert b.document_id not in response.text
    assert b.upload_id not in response.text
    # B's things are untouched and still B's.
    assert client.get(f"/api/v1/locker/documents/{b.document_id}", headers=b.headers).status_code == 200
    assert client.get(f"/api/v1/locker/uploads/{b.upload_id}/content", headers=b.headers).status_code == 200
    shares = client.get(f"/api/v1/locker/documents/{b.document_id}/shares", headers=b.headers).json()
    assert [s["state"] for s in shares] == ["active"]


def test_listings_hold_only_the_owners_items(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    a, b = make_citizen(client, backend, dept), make_citizen(client, backend, dept)

    documents = client.get("/api/v1/locker/documents", headers=a.headers).json()["items"]
    uploads = client.get("/api/v1/locker/uploads", headers=a.headers).json()
    log = client.get("/api/v1/locker/access-log", headers=a.headers).json()

    assert [d["id"] for d in documents] == [a.document_id]
    assert [u["id"] for u in uploads] == [a.upload_id]
    assert all(e["document_id"] == a.document_id for e in log)
    assert b.document_id not in str(documents) + str(uploads) + str(log)


def test_a_share_link_opens_its_own_document_only(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    first = str(issue_to(client, dept, mobile)["id"])
    second = str(issue_to(client, dept, mobile)["id"])
    headers = sign_in(client, backend, mobile)
    link = client.post(f"/api/v1/locker/documents/{first}/shares", json={}, headers=headers).json()["url"]
    token = link.rsplit("/s/", 1)[1]

    assert client.get(f"/api/v1/shared/{token}").json()["document"]["id"] == first
    # A share token is not a session: it opens nothing in the locker API.
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/locker/documents/{second}", headers=bearer).status_code == 401
    assert client.get("/api/v1/locker/documents", headers=bearer).status_code == 401


def test_a_department_key_is_not_a_locker_session(client: TestClient, dept: IssuingDepartment) -> None:
    assert client.get("/api/v1/locker/documents", headers=dept.headers).status_code == 401
