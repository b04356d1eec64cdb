"""The desk's page of DigiLocker pushes needing attention: a department admin sees their
department's failed and retrying pushes (head office every department's) with the
certificate, action, attempts and last error, and retries a failed one with a CSRF-checked
button that the audit log notes. Nobody else sees or retries them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.models import StaffRole
from audit.models import AuditEntry
from digilocker.models import DigilockerPush, PushStatus
from digilocker.pushing import MAX_ATTEMPTS, deliver_due
from tests.conftest import Backend, IssuingDepartment, create_department
from tests.digilocker.helpers import Partner
from tests.digilocker.standin import DigiLockerStandIn
from tests.intake.test_pages import assert_page, staff_client
from tests.locker.conftest import issue_to, new_mobile
from tests.locker.test_pages import csrf_of


@pytest.fixture
def partner(connected: tuple[DigiLockerStandIn, Partner]) -> Partner:
    return connected[1]


def _csrf_cookie(browser: TestClient) -> str:
    return str(next(value for name, value in browser.cookies.items() if name.endswith("sanad_csrf")))


def _deliver(backend: Backend) -> None:
    deliver_due(backend.context.sessions, backend.settings.secret_key, datetime.now(UTC))


def _push(backend: Backend, document_id: str) -> DigilockerPush:
    with backend.context.sessions() as s:
        return s.scalars(select(DigilockerPush).where(DigilockerPush.document_id == document_id)).one()


def _failed_push(
    client: TestClient, backend: Backend, dept: IssuingDepartment, fake: DigiLockerStandIn, partner: Partner
) -> DigilockerPush:
    """A push DigiLocker refused (wrong secret) on its last attempt: failed for good."""
    mobile = new_mobile()
    fake.open_account(mobile)
    document_id = str(issue_to(client, dept, mobile)["id"])
    with backend.context.sessions() as s:
        row = s.scalars(select(DigilockerPush).where(DigilockerPush.document_id == document_id)).one()
        row.attempts = MAX_ATTEMPTS - 1
        s.commit()
    fake.client_secret = "not-what-sanad-was-given"
    _deliver(backend)
    fake.client_secret = partner.client_secret
    push = _push(backend, document_id)
    assert push.status == PushStatus.FAILED
    return push


def test_a_department_admin_sees_failed_and_retrying_pushes_in_three_languages(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    standin: tuple[DigiLockerStandIn, str],
    partner: Partner,
) -> None:
    fake, _ = standin
    failed = _failed_push(client, backend, dept, fake, partner)
    mobile = new_mobile()
    fake.open_account(mobile)
    retrying_id = str(issue_to(client, dept, mobile)["id"])
    fake.outages = 1
    _deliver(backend)
    assert _push(backend, retrying_id).attempts == 1

    with staff_client(backend, StaffRole.DEPARTMENT_ADMIN, department=dept.department.code) as desk:
        page = desk.get("/desk/digilocker")
        assert_page(page, 200, "DigiLocker pushes needing attention", failed.document_id, retrying_id)
        row = page.text.split(f'data-push="{failed.id}"')[1].split("</tr>")[0]
        assert "Add to the account" in row
        assert "issued" in row
        assert "HTTP 401" in row  # the last error
        assert f">{MAX_ATTEMPTS}<" in row
        assert 'data-testid="retry"' in row
        retrying = page.text.split(f'data-push="{_push(backend, retrying_id).id}"')[1].split("</tr>")[0]
        assert "Retrying; next try" in retrying
        assert "HTTP 503" in retrying
        assert 'data-testid="retry"' not in retrying  # it is retried on its own
        assert partner.client_secret not in page.text
        assert partner.api_key not in page.text
        assert 'data-col="department"' not in page.text  # one department: no column for it
        assert 'href="/desk/digilocker" aria-current="page"' in page.text  # in the desk's navigation
        assert "ਧਿਆਨ ਮੰਗਦੀਆਂ ਡਿਜੀਲਾਕਰ ਭੇਜਾਂ" in desk.get("/desk/digilocker?lang=pa").text
        assert "ध्यान माँगने वाले डिजीलॉकर प्रेषण" in desk.get("/desk/digilocker?lang=hi").text


def test_retry_queues_the_push_again_and_is_audited(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    standin: tuple[DigiLockerStandIn, str],
    partner: Partner,
) -> None:
    fake, _ = standin
    failed = _failed_push(client, backend, dept, fake, partner)

    with staff_client(backend, StaffRole.DEPARTMENT_ADMIN, department=dept.department.code) as desk:
        page = desk.get("/desk/digilocker")
        forged = desk.post(f"/desk/digilocker/pushes/{failed.id}/retry", data={"csrf": "not-the-cookie"})
        assert forged.status_code == 400
        assert _push(backend, failed.document_id).status == PushStatus.FAILED
        answer = desk.post(
            f"/desk/digilocker/pushes/{failed.id}/retry", data={"csrf": csrf_of(page)}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/desk/digilocker?retried={failed.id}"
        after = desk.get(answer.headers["location"])
        assert_page(after, 200, f"Push {failed.id} will be tried again")
        again = desk.post(f"/desk/digilocker/pushes/{failed.id}/retry", data={"csrf": csrf_of(page)})
        assert again.status_code == 409  # no longer failed

    push = _push(backend, failed.document_id)
    assert (push.status, push.attempts) == (PushStatus.PENDING, 0)
    with backend.context.sessions() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "digilocker.push_retry")
            .where(AuditEntry.subject == f"document:{failed.document_id}")
        ).one()
    assert entry.actor.startswith("staff:department_admin-")
    _deliver(backend)
    assert _push(backend, failed.document_id).status == PushStatus.SENT
    assert [p["docid"] for p in fake.pushes] == [failed.document_id]


def test_nobody_else_sees_or_retries_a_departments_pushes(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    standin: tuple[DigiLockerStandIn, str],
    partner: Partner,
) -> None:
    fake, _ = standin
    failed = _failed_push(client, backend, dept, fake, partner)
    other = create_department(backend)

    with staff_client(backend, StaffRole.DEPARTMENT_ADMIN, department=other.department.code) as desk:
        page = desk.get("/desk/digilocker")
        assert_page(page, 200)
        assert failed.document_id not in page.text
        assert 'data-testid="no-pushes"' in page.text
        token = _csrf_cookie(desk)  # the page has no form: a forged one, with a genuine token
        answer = desk.post(f"/desk/digilocker/pushes/{failed.id}/retry", data={"csrf": token})
        assert answer.status_code == 404  # as a push that does not exist
        missing = desk.post("/desk/digilocker/pushes/2147483647/retry", data={"csrf": token})
        assert missing.status_code == 404
    assert _push(backend, failed.document_id).status == PushStatus.FAILED

    with staff_client(backend, StaffRole.OFFICER, department=dept.department.code) as desk:
        assert desk.get("/desk/digilocker").status_code == 403
    assert client.get("/desk/digilocker", follow_redirects=False).status_code == 303  # to sign in

    with staff_client(backend, StaffRole.HEAD_OFFICE, department=None) as desk:
        page = desk.get("/desk/digilocker")
        assert_page(page, 200, failed.document_id)
        row = page.text.split(f'data-push="{failed.id}"')[1].split("</tr>")[0]
        assert f'data-col="department">{dept.department.code}<' in row
