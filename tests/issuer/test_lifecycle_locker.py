"""The citizen's document page lists a document's versions with their statuses."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment, income_certificate
from tests.locker.conftest import issue_to, new_mobile, sign_in_with_forms


def _versions(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-version="(\d+)" data-status="([a-z]+)"', page)


def test_each_version_page_lists_every_version_with_its_status(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    first = issue_to(client, dept, mobile)
    second = client.post(
        f"/api/v1/documents/{first['id']}/supersede",
        json={"data": income_certificate()["data"], "reason": "corrected the address"},
        headers=dept.headers,
    ).json()
    client.post(f"/api/v1/documents/{second['id']}/suspend", json={"reason": "court_order"}, headers=dept.headers)
    sign_in_with_forms(client, backend, mobile)

    old_page = client.get(f"/locker/documents/{first['id']}")
    new_page = client.get(f"/locker/documents/{second['id']}")

    assert old_page.status_code == new_page.status_code == 200
    assert _versions(old_page.text) == [("1", "superseded"), ("2", "suspended")]
    assert _versions(new_page.text) == _versions(old_page.text)
    assert f'href="/locker/documents/{second["id"]}"' in old_page.text
    assert 'data-status="suspended"' in new_page.text
    assert "Suspended" in new_page.text


def test_a_document_with_one_version_shows_no_version_list(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    only = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)

    page = client.get(f"/locker/documents/{only['id']}")

    assert page.status_code == 200
    assert 'data-testid="versions"' not in page.text
