"""The API's reads check the session in the same query that reads the documents: a session
that ended or expired, or never was, still opens nothing, and is told so before a bad filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in

SESSION_ENDED = "the session has expired or was ended; sign in again"


def reads(document_id: object) -> list[str]:
    """Every signed-in read of a document or the listing, filtered to nothing included."""
    return [
        "/api/v1/locker/documents",
        "/api/v1/locker/documents?type=no-such-type",
        f"/api/v1/locker/documents/{document_id}",
        f"/api/v1/locker/documents/{document_id}/content",
    ]


def test_a_signed_out_token_opens_nothing_and_the_other_session_still_does(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    ending, staying = sign_in(client, backend, mobile), sign_in(client, backend, mobile)
    assert client.delete("/api/v1/locker/session", headers=ending).status_code == 204
    for url in reads(document["id"]):
        refused = client.get(url, headers=ending, follow_redirects=False)
        assert refused.status_code == 401, url
        assert refused.json()["detail"] == SESSION_ENDED
        assert client.get(url, headers=staying, follow_redirects=False).status_code in (200, 307), url


def test_an_expired_session_opens_nothing(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    later = datetime.now(UTC) + timedelta(hours=backend.settings.locker_session_hours, minutes=1)
    with time_machine.travel(later, tick=True):
        for url in reads(document["id"]):
            assert client.get(url, headers=headers, follow_redirects=False).status_code == 401, url


def test_an_unknown_token_opens_nothing(client: TestClient, dept: IssuingDepartment) -> None:
    document = issue_to(client, dept, new_mobile())
    for url in reads(document["id"]):
        assert client.get(url, headers={"Authorization": "Bearer not-a-session"}).status_code == 401, url


def test_a_citizen_without_documents_gets_an_empty_page(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())
    listed = client.get("/api/v1/locker/documents", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("query", ["status=lost", "cursor=!!!"])
def test_the_session_is_checked_before_the_filter(client: TestClient, backend: Backend, query: str) -> None:
    headers = sign_in(client, backend, new_mobile())
    assert client.get(f"/api/v1/locker/documents?{query}", headers=headers).status_code == 422
    assert client.delete("/api/v1/locker/session", headers=headers).status_code == 204
    assert client.get(f"/api/v1/locker/documents?{query}", headers=headers).status_code == 401


def test_another_holders_document_and_an_overlong_id_read_as_missing(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    others = issue_to(client, dept, new_mobile())
    headers = sign_in(client, backend, new_mobile())
    for document_id in (others["id"], "x" * 33, "no-such-document"):
        for url in reads(document_id)[2:]:
            missing = client.get(url, headers=headers, follow_redirects=False)
            assert missing.status_code == 404, url
            assert missing.json()["detail"] == "no such document in your locker"


def test_filtered_pages_carry_the_status_department_and_cursor(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    issued = [str(issue_to(client, dept, mobile)["id"]) for _ in range(3)]
    headers = sign_in(client, backend, mobile)
    code = dept.department.code
    first = client.get(f"/api/v1/locker/documents?status=valid&department={code}&limit=2", headers=headers).json()
    assert [item["status"] for item in first["items"]] == ["valid", "valid"]
    assert first["items"][0]["department"]["code"] == code
    rest = client.get(
        f"/api/v1/locker/documents?status=valid&department={code}&limit=2&cursor={first['next_cursor']}",
        headers=headers,
    ).json()
    assert rest["next_cursor"] is None
    assert sorted(item["id"] for item in first["items"] + rest["items"]) == sorted(issued)
