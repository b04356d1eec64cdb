from __future__ import annotations

import hashlib

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in


def test_issue_sign_in_list_download(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    listing = client.get("/api/v1/locker/documents", headers=headers)
    assert listing.status_code == 200, listing.text
    assert [d["id"] for d in listing.json()["items"]] == [doc["id"]]
    response = client.get(f"/api/v1/locker/documents/{doc['id']}/content", headers=headers, follow_redirects=False)
    if backend.name == "embedded":
        assert response.status_code == 200
        body = response.content
    else:
        assert response.status_code == 307
        body = httpx.get(response.headers["location"]).content
    assert hashlib.sha256(body).hexdigest() == doc["sha256"]
