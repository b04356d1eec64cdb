"""The locker's record page: a citizen reads the audit entries about their own documents
and consents, and nobody else's."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in, sign_in_with_forms
from tests.locker.test_shares import share, token_of


def _actions(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-action="([^"]+)" data-by="([^"]+)"', page)


def test_a_citizen_sees_what_was_done_with_their_documents(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    issue_to(client, dept, new_mobile())  # someone else's
    created = share(client, document["id"], sign_in(client, backend, mobile), expires_in_days=3)
    client.get(f"/api/v1/shared/{token_of(created)}")
    sign_in_with_forms(client, backend, mobile)

    page = client.get("/locker/record")

    assert page.status_code == 200, page.text
    assert _actions(page.text) == [("share.view", "share"), ("share.create", "you"), ("document.issue", "department")]
    assert f"By {dept.department.name_en}" in page.text
    assert "Viewed through a share link" in page.text
    assert page.text.count("Income Certificate") >= 3
    assert client.get("/locker/access-log").text.count('href="/locker/record"') == 1


def test_the_page_speaks_the_citizens_language_and_shows_an_empty_record(client: TestClient, backend: Backend) -> None:
    sign_in_with_forms(client, backend, new_mobile())
    page = client.get("/locker/record?lang=pa")
    assert page.status_code == 200
    assert "ਮੇਰੇ ਦਸਤਾਵੇਜ਼ਾਂ ਦਾ ਰਿਕਾਰਡ" in page.text
    assert 'data-testid="empty"' in page.text


def test_signed_out_the_page_asks_to_sign_in(client: TestClient) -> None:
    response = client.get("/locker/record", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/locker/sign-in")
