"""Share links, every access through them or a requester, and consents are recorded in the
transaction that makes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from audit import repository
from audit.entries import parse
from locker import sharing
from tests.audit.test_documents import CommitRefused, refuse_commit
from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in
from tests.locker.test_oauth import access_token, approve
from tests.locker.test_shares import share, token_of


def _entries(backend: Backend, subject: str) -> list[tuple[str, str, dict[str, object]]]:
    with backend.context.sessions() as s:
        rows = repository.about(s, [subject], limit=50)
        return [(r.action, r.actor, dict(parse(r.entry.encode("utf-8")).details)) for r in reversed(rows)]


def test_a_share_its_accesses_and_its_revocation_are_recorded(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    created = share(client, document["id"], headers, expires_in_days=7)
    token = token_of(created)
    assert client.get(f"/api/v1/shared/{token}").status_code == 200
    assert client.get(f"/api/v1/shared/{token}/content", follow_redirects=False).status_code in (200, 307)
    assert client.delete(f"/api/v1/locker/shares/{created['id']}", headers=headers).status_code in (200, 204)
    assert client.get(f"/api/v1/shared/{token}").status_code == 410  # refused: not an access

    via = f"share:{created['id']}"
    found = _entries(backend, f"document:{document['id']}")
    assert [(action, actor) for action, actor, _ in found] == [
        ("document.issue", f"department:{dept.department.code}"),
        ("share.create", "citizen"),
        ("share.view", via),
        ("share.download", via),
        ("share.revoke", "citizen"),
    ]
    assert found[1][2]["share"] == created["id"]
    assert found[1][2]["single_use"] is False


def test_a_share_access_whose_commit_fails_leaves_no_entry(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    token = token_of(share(client, document["id"], sign_in(client, backend, mobile), expires_in_days=1))
    with backend.context.sessions() as s:
        refuse_commit(s)
        sharing.view_share(s, token, sharing.Visitor("10.0.0.1", "test"), datetime.now(UTC))
        with pytest.raises(CommitRefused):
            s.commit()
    assert [a for a, _, _ in _entries(backend, f"document:{document['id']}")] == ["document.issue", "share.create"]


def test_a_consent_a_requesters_reads_and_the_withdrawal_are_recorded(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    approved = approve(client, backend, mobile=mobile)
    token = access_token(client, approved)
    assert client.get(f"/api/v1/requester/documents/{document['id']}", headers=token).status_code == 200
    citizen = sign_in(client, backend, mobile)
    [grant] = client.get("/api/v1/locker/grants", headers=citizen).json()
    assert client.delete(f"/api/v1/locker/grants/{grant['id']}", headers=citizen).status_code == 204

    consent = _entries(backend, f"consent:{grant['id']}")
    assert [(a, actor) for a, actor, _ in consent] == [("consent.grant", "citizen"), ("consent.withdraw", "citizen")]
    assert consent[0][2] == {
        "requester": approved.requester.client_id,
        "name": approved.requester.name,
        "scope": "doc:income-certificate",
    }
    reads = [actor for a, actor, _ in _entries(backend, f"document:{document['id']}") if a.startswith("requester.")]
    assert reads
    assert all(actor.startswith("requester:") for actor in reads)
    # and the citizen (still signed in to the pages from the consent) reads it on the record page
    page = client.get("/locker/record").text
    assert f"Service: {approved.requester.name}" in page
    assert "Permission given" in page
    assert "Permission withdrawn" in page
