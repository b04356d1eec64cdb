"""A decision on an application is recorded with the decision; a refused one is not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import StaffRole
from audit import repository
from audit.entries import parse
from tests.conftest import Backend
from tests.intake.helpers import staff_headers
from tests.intake.test_applications_api import submitted


def _entries(backend: Backend, number: str) -> list[tuple[str, str, dict[str, object]]]:
    with backend.context.sessions() as s:
        rows = repository.about(s, [f"application:{number}"], limit=20)
        return [(r.action, r.actor, dict(parse(r.entry.encode("utf-8")).details)) for r in reversed(rows)]


def test_decisions_are_recorded_and_refused_ones_are_not(client: TestClient, backend: Backend) -> None:
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")  # also makes the department
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    _, _, application = submitted(client, backend)
    number = str(application["number"])
    url = f"/api/v1/applications/{number}/decisions"

    assert client.post(url, json={"action": "review"}, headers=officer).status_code == 200
    assert client.post(url, json={"action": "approve"}, headers=operator).status_code == 403
    assert client.post(url, json={"action": "reject"}, headers=officer).status_code == 422  # no reason
    assert client.post(url, json={"action": "reject", "remarks": "not eligible"}, headers=officer).status_code == 200

    found = _entries(backend, number)
    assert [action for action, _, _ in found] == ["application.review", "application.reject"]
    assert all(actor.startswith("staff:officer-") for _, actor, _ in found)
    assert found[1][2] == {"role": "officer", "office": application["office"]}
