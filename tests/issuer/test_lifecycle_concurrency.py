"""Superseding is done once: four corrections of one document at once against a real
server make exactly one new version, and the others' signed files are not kept."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.models import Document
from tests.concurrency import at_once, live_server
from tests.conftest import Backend, IssuingDepartment, income_certificate


def test_four_corrections_at_once_make_one_new_version(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
    assert issued.status_code == 201, issued.text
    old_id = issued.json()["id"]
    path = f"/api/v1/documents/{old_id}/supersede"
    body = {"data": income_certificate()["data"], "reason": "corrected the address"}

    with live_server(backend) as url:
        answers = at_once(4, lambda _: httpx.post(url + path, json=body, headers=dept.headers, timeout=120))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    winner = next(a.json() for a in answers if a.status_code == 201)
    old = client.get(f"/api/v1/documents/{old_id}", headers=dept.headers).json()
    assert old["status"] == "superseded"
    assert old["superseded_by_id"] == winner["id"]
    with backend.context.sessions() as s:
        successors = s.scalar(select(func.count()).select_from(Document).where(Document.supersedes_id == old_id))
        citizen_ref = s.get(Document, old_id).citizen_ref  # type: ignore[union-attr]
    assert successors == 1
    stored = [o.key for o in backend.store.list(f"citizens/{citizen_ref}/")]
    # Only the old version's and the winner's files: the losers' were discarded.
    assert stored
    assert all(old_id in key or winner["id"] in key for key in stored), stored
