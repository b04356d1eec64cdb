"""Share links: expiry, single use, revocation, live status, and the owner's access log."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment, client_address
from tests.locker.conftest import issue_to, new_mobile, sign_in
from tests.locker.test_documents import fetch_content, revoke


def share(client: TestClient, document_id: object, headers: dict[str, str], **options: object) -> dict[str, object]:
    response = client.post(f"/api/v1/locker/documents/{document_id}/shares", json=options, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def token_of(created: dict[str, object]) -> str:
    return str(created["url"]).rsplit("/s/", 1)[1]


def test_a_recipient_sees_the_document_and_its_live_status_without_an_account(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    created = share(client, document["id"], headers, expires_in_days=7, purpose="home loan, ABC Bank")
    token = token_of(created)

    assert len(token) >= 32  # 192 random bits
    assert created["state"] == "active"
    opened = client.get(f"/api/v1/shared/{token}")
    assert opened.status_code == 200
    assert opened.json()["document"]["id"] == document["id"]
    assert opened.json()["document"]["status"] == "valid"

    revoke(client, dept, document["id"])
    assert client.get(f"/api/v1/shared/{token}").json()["document"]["status"] == "revoked"


def test_the_shared_download_is_exactly_the_issued_bytes(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    token = token_of(share(client, document["id"], sign_in(client, backend, mobile)))

    content = fetch_content(client, backend, f"/api/v1/shared/{token}/content", {})

    assert hashlib.sha256(content).hexdigest() == document["sha256"]


def test_every_access_is_in_the_owners_log_with_where_and_which_share(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    created = share(client, document["id"], headers, purpose="admission, Punjabi University")
    token = token_of(created)
    bank = client_address()
    with TestClient(client.app, client=bank) as recipient:
        recipient.get(f"/api/v1/shared/{token}", headers={"User-Agent": "BankBrowser/1.0"})
        recipient.get(
            f"/api/v1/shared/{token}/content", headers={"User-Agent": "BankBrowser/1.0"}, follow_redirects=False
        )

    log = client.get("/api/v1/locker/access-log", headers=headers).json()
    per_document = client.get(f"/api/v1/locker/access-log?document_id={document['id']}", headers=headers).json()

    assert [(e["action"], e["via"], e["ip"], e["user_agent"]) for e in log] == [
        ("download", "share", bank[0], "BankBrowser/1.0"),
        ("view", "share", bank[0], "BankBrowser/1.0"),
    ]
    assert {e["share_id"] for e in log} == {created["id"]}
    assert {e["share_purpose"] for e in log} == {"admission, Punjabi University"}
    assert per_document == log


def test_expiry_is_at_most_30_days(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)

    for days in (0, 31):
        response = client.post(
            f"/api/v1/locker/documents/{document['id']}/shares", json={"expires_in_days": days}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "expires_in_days"


def test_an_expired_link_is_410(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    token = token_of(share(client, document["id"], sign_in(client, backend, mobile), expires_in_days=1))

    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, minutes=1), tick=False):
        page = client.get(f"/api/v1/shared/{token}")
        content = client.get(f"/api/v1/shared/{token}/content")

    assert page.status_code == 410
    assert "expired" in page.json()["detail"]
    assert content.status_code == 410


def test_a_revoked_link_is_410_at_once(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    created = share(client, document["id"], headers)
    token = token_of(created)
    assert client.get(f"/api/v1/shared/{token}").status_code == 200

    revoked = client.delete(f"/api/v1/locker/shares/{created['id']}", headers=headers)
    again = client.delete(f"/api/v1/locker/shares/{created['id']}", headers=headers)

    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert again.status_code == 409
    assert client.get(f"/api/v1/shared/{token}").status_code == 410
    assert client.get(f"/api/v1/shared/{token}/content").status_code == 410
    listed = client.get(f"/api/v1/locker/documents/{document['id']}/shares", headers=headers).json()
    assert [(s["id"], s["state"]) for s in listed] == [(created["id"], "revoked")]
    assert "url" not in listed[0]  # the secret is shown once, never stored


def test_a_single_use_link_allows_one_download(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    created = share(client, document["id"], headers, single_use=True)
    token = token_of(created)

    assert client.get(f"/api/v1/shared/{token}").status_code == 200  # looking is not using
    first = client.get(f"/api/v1/shared/{token}/content", follow_redirects=False)
    second = client.get(f"/api/v1/shared/{token}/content", follow_redirects=False)

    assert first.status_code in (200, 307)
    assert second.status_code == 410
    assert "already been used" in second.json()["detail"]
    assert client.get(f"/api/v1/shared/{token}").status_code == 410
    listed = client.get(f"/api/v1/locker/documents/{document['id']}/shares", headers=headers).json()
    assert listed[0]["state"] == "used"


def test_an_unknown_link_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/shared/this-link-was-never-made-by-anyone-123").status_code == 404
    assert client.get(f"/api/v1/shared/{'x' * 500}").status_code == 404
