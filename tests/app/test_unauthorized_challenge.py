"""Every 401 of the API says which scheme it wants (RFC 9110: a 401 carries WWW-Authenticate)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/documents/some-id", {}),  # no department key
        ("GET", "/api/v1/documents/some-id", {"Authorization": "Bearer sk_not_a_key"}),
        ("GET", "/api/v1/locker/documents", {}),  # no locker session
        ("GET", "/api/v1/applications", {"Authorization": "Bearer not-a-session"}),
    ],
)
def test_a_401_names_the_bearer_scheme(client: TestClient, method: str, path: str, headers: dict[str, str]) -> None:
    response = client.request(method, path, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="sanad"'
    assert response.json()["error"] == "unauthorized"


def test_other_errors_carry_no_challenge(client: TestClient) -> None:
    response = client.get("/v/no-such-document", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert "WWW-Authenticate" not in response.headers
