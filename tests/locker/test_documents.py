"""A holder's documents: which ones, in what order, filtered, paged, and the exact bytes."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import time_machine
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate
from tests.locker.conftest import issue_to, new_mobile, sign_in


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def revoke(client: TestClient, dept: IssuingDepartment, document_id: object) -> None:
    response = client.post(
        f"/api/v1/documents/{document_id}/revoke", json={"reason": "issued in error"}, headers=dept.headers
    )
    assert response.status_code == 200


def fetch_content(client: TestClient, backend: Backend, url: str, headers: dict[str, str]) -> bytes:
    """Follow the locker's download the way a browser does (a redirect to MinIO, or bytes)."""
    response = client.get(url, headers=headers, follow_redirects=False)
    if backend.name == "embedded":
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        return response.content
    assert response.status_code == 307, response.text
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert parse_qs(urlparse(location).query)["X-Amz-Expires"] == ["60"]
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    return fetched.content


def test_newest_first_with_the_facts_a_holder_needs(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    older = issue_to(client, dept, mobile)
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=2)):
        newer = issue_to(client, dept, mobile, holder_name="Gurpreet Kaur")
        headers = sign_in(client, backend, mobile)

    listing = client.get("/api/v1/locker/documents", headers=headers)

    assert ids(listing) == [newer["id"], older["id"]]
    first = listing.json()["items"][0]
    assert first["title"]["pa"]
    assert first["title"]["en"] == "Income Certificate"
    assert first["department"]["code"] == dept.department.code
    assert first["status"] == "valid"
    assert first["holder_name"] == "Gurpreet Kaur"
    assert first["sha256"] == newer["sha256"]
    assert first["verify_url"].endswith(f"/v/{newer['id']}")


def test_every_record_with_the_number_shows_and_no_other(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    own = issue_to(client, dept, mobile, citizen_id="AADHAAR-LIKE-1")
    also_own = issue_to(client, create_department(backend), mobile)  # another department, another record
    issue_to(client, dept, new_mobile())  # someone else

    assert sorted(ids(client.get("/api/v1/locker/documents", headers=sign_in(client, backend, mobile)))) == sorted(
        [own["id"], also_own["id"]]
    )


def test_each_document_goes_to_the_number_its_own_request_named(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    """A later, different number for the same citizen moves no earlier document, and the
    earlier number does not capture the later one (docs/holder-binding.md)."""
    first_mobile, second_mobile = new_mobile(), new_mobile()
    citizen = f"CIT-{first_mobile}"
    a = issue_to(client, dept, first_mobile, citizen_id=citizen)
    b = issue_to(client, dept, second_mobile, citizen_id=citizen)

    assert ids(client.get("/api/v1/locker/documents", headers=sign_in(client, backend, first_mobile))) == [a["id"]]
    assert ids(client.get("/api/v1/locker/documents", headers=sign_in(client, backend, second_mobile))) == [b["id"]]


def test_revoked_and_expired_documents_stay_listed_with_their_status(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    revoked = issue_to(client, dept, mobile)
    revoke(client, dept, revoked["id"])
    response = client.post(
        "/api/v1/documents",
        json={
            "type": "income-certificate",
            "citizen_id": f"CIT-{mobile}",
            "citizen_mobile": mobile,
            "data": income_certificate()["data"],
            "valid_until": (date.today() + timedelta(days=3)).isoformat(),
        },
        headers=dept.headers,
    )
    assert response.status_code == 201
    short_lived = response.json()
    valid = issue_to(client, dept, mobile)

    with time_machine.travel(datetime.now(UTC) + timedelta(days=10), tick=False):
        headers = sign_in(client, backend, mobile)
        statuses = {
            i["id"]: i["status"] for i in client.get("/api/v1/locker/documents", headers=headers).json()["items"]
        }
        by_status = {
            s: ids(client.get(f"/api/v1/locker/documents?status={s}", headers=headers))
            for s in ("valid", "expired", "revoked")
        }

    assert statuses == {revoked["id"]: "revoked", short_lived["id"]: "expired", valid["id"]: "valid"}
    assert by_status == {"valid": [valid["id"]], "expired": [short_lived["id"]], "revoked": [revoked["id"]]}


def test_filters_by_type_and_department(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    other = create_department(backend)
    mine = issue_to(client, dept, mobile)
    theirs = issue_to(client, other, mobile)
    headers = sign_in(client, backend, mobile)

    assert ids(client.get(f"/api/v1/locker/documents?department={dept.department.code}", headers=headers)) == [
        mine["id"]
    ]
    assert ids(client.get(f"/api/v1/locker/documents?department={other.department.code}", headers=headers)) == [
        theirs["id"]
    ]
    assert len(ids(client.get("/api/v1/locker/documents?type=income-certificate", headers=headers))) == 2
    assert ids(client.get("/api/v1/locker/documents?type=birth-certificate", headers=headers)) == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    start = datetime.now(UTC)
    issued = []
    for second in range(5):  # issue times have whole seconds; a tie would order by id
        with time_machine.travel(start + timedelta(seconds=second)):
            issued.append(issue_to(client, dept, mobile)["id"])
    with time_machine.travel(start + timedelta(seconds=6)):
        headers = sign_in(client, backend, mobile)

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/locker/documents{query}", headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(issued))


def test_bad_filters_and_cursors_are_422_with_the_field(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    bad_status = client.get("/api/v1/locker/documents?status=lost", headers=headers)
    bad_cursor = client.get("/api/v1/locker/documents?cursor=%%%", headers=headers)
    bad_limit = client.get("/api/v1/locker/documents?limit=1000", headers=headers)

    assert bad_status.status_code == 422
    assert bad_status.json()["fields"][0]["field"] == "status"
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["fields"][0]["field"] == "cursor"
    assert bad_limit.status_code == 422
    assert bad_limit.json()["fields"][0]["field"] == "limit"


def test_download_is_exactly_the_issued_bytes(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)

    content = fetch_content(client, backend, f"/api/v1/locker/documents/{document['id']}/content", headers)

    assert hashlib.sha256(content).hexdigest() == document["sha256"]
    assert (
        client.get(f"/api/v1/locker/documents/{document['id']}", headers=headers).json()["sha256"] == document["sha256"]
    )


def test_documents_reach_the_locker_even_when_signing_in_first(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    headers = sign_in(client, backend, mobile)
    assert ids(client.get("/api/v1/locker/documents", headers=headers)) == []

    document = issue_to(client, dept, mobile)

    assert ids(client.get("/api/v1/locker/documents", headers=headers)) == [document["id"]]
