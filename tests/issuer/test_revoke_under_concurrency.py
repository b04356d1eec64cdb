"""Revoking is done once: ten revocations of one document at once against a real server,
and exactly one of them revokes it."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.concurrency import at_once, live_server
from tests.conftest import Backend, IssuingDepartment, income_certificate


def test_ten_revocations_at_once_revoke_once(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
    assert issued.status_code == 201, issued.text
    revoke = f"/api/v1/documents/{issued.json()['id']}/revoke"

    with live_server(backend) as url:
        answers = at_once(
            10, lambda n: httpx.post(url + revoke, json={"reason": f"reason {n}"}, headers=dept.headers, timeout=60)
        )

    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert all(a.json()["detail"] == "the document is already revoked" for a in answers if a.status_code == 409)
    record = client.get(f"/api/v1/documents/{issued.json()['id']}", headers=dept.headers).json()
    assert record["status"] == "revoked"
    assert record["revocation_reason"] == winner["revocation_reason"]
    assert record["revoked_at"] == winner["revoked_at"]
