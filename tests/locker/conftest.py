"""Locker helpers: citizens with mobile numbers, their documents, and signing in."""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient
from sqlalchemy import select

from sanad.models import DevMessage
from tests.conftest import Backend, IssuingDepartment, income_certificate


def new_mobile() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(9))


def issue_to(
    client: TestClient, dept: IssuingDepartment, mobile: str, citizen_id: str | None = None, **data: object
) -> dict[str, object]:
    """Issue an income certificate to a citizen with ``mobile``; returns the registry record."""
    body = {**income_certificate(citizen_id, **data), "citizen_mobile": mobile}
    response = client.post("/api/v1/documents", json=body, headers=dept.headers)
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


def latest_code(backend: Backend, mobile: str) -> str:
    """The code the development channel "sent" to ``mobile`` most recently."""
    with backend.context.sessions() as s:
        body = s.scalar(
            select(DevMessage.body).where(DevMessage.recipient == mobile).order_by(DevMessage.id.desc()).limit(1)
        )
    assert body is not None, f"no message was sent to {mobile}"
    match = re.match(r"(\d{6}) ", body)
    assert match, body
    return match.group(1)


def sign_in(client: TestClient, backend: Backend, mobile: str) -> dict[str, str]:
    """Sign in through the API; returns the Authorization header."""
    response = client.post("/api/v1/locker/otp", json={"mobile": mobile})
    assert response.status_code == 202, response.text
    response = client.post("/api/v1/locker/session", json={"mobile": mobile, "code": latest_code(backend, mobile)})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def sign_in_with_forms(client: TestClient, backend: Backend, mobile: str, next_path: str = "/locker/documents") -> str:
    """Sign in through the pages as a browser does: the mobile form, then the code form.
    The client keeps the CSRF and session cookies; returns where the sign-in redirects to."""
    page = client.get("/locker/sign-in", params={"next": next_path})
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "the sign-in form has no csrf field"
    csrf = match.group(1)
    sent = client.post("/locker/sign-in/code", data={"csrf": csrf, "mobile": mobile, "next": next_path})
    assert sent.status_code == 200, sent.text
    done = client.post(
        "/locker/sign-in",
        data={"csrf": csrf, "mobile": mobile, "code": latest_code(backend, mobile), "next": next_path},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return str(done.headers["location"])
