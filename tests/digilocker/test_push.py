"""Pushing into citizens' DigiLocker accounts, against the stand-in over real HTTP: after
issuing (A), on revocation (D), with retries through outages and failures kept in view."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.factory import create_app
from digilocker.models import DigilockerPush, PushStatus
from digilocker.pushing import MAX_ATTEMPTS, deliver_due, list_pushes, retry_push
from digilocker.tasks import deliver_pushes
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend, IssuingDepartment, create_department
from tests.digilocker.conftest import connect as _partner
from tests.digilocker.helpers import Partner, register
from tests.digilocker.standin import DigiLockerStandIn
from tests.issuer.batches_helpers import csv_file, results, row, run_jobs, submit
from tests.locker.conftest import issue_to, new_mobile


@pytest.fixture
def sanad_url(backend: Backend) -> Iterator[str]:
    with serve_in_thread(create_app(context=backend.context)) as url:
        yield url


def _pushes(backend: Backend, document_id: str) -> list[DigilockerPush]:
    with backend.context.sessions() as s:
        return list(s.scalars(select(DigilockerPush).where(DigilockerPush.document_id == document_id)))


def _deliver(backend: Backend, at: datetime | None = None) -> tuple[int, int]:
    return deliver_due(backend.context.sessions, backend.settings.secret_key, at or datetime.now(UTC))


def test_an_issued_certificate_is_pushed_and_digilocker_fetches_it(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    connected: tuple[DigiLockerStandIn, Partner],
    sanad_url: str,
) -> None:
    fake, partner = connected
    mobile = new_mobile()
    account = fake.open_account(mobile)
    record = issue_to(client, dept, mobile)

    assert [p.action for p in _pushes(backend, str(record["id"]))] == ["A"]
    deliver_pushes(backend.context)  # the job engine's task

    uri = f"{partner.issuer_id}-INCER-{record['id']}"
    assert len(fake.pushes) == 1
    pushed = fake.pushes[0]
    assert (pushed["digilockerid"], pushed["uri"], pushed["docid"], pushed["action"]) == (
        account,
        uri,
        record["id"],
        "A",
    )
    issued = datetime.fromisoformat(str(record["issued_at"])).astimezone(UTC)
    assert pushed["issuedate"] in {
        (issued + timedelta(hours=5, minutes=30)).strftime("%d-%m-%Y"),
    }
    assert pushed["validto"] == datetime.fromisoformat(str(record["valid_until"])).strftime("%d-%m-%Y")
    assert _pushes(backend, str(record["id"]))[0].status == PushStatus.SENT

    # DigiLocker then fetches the document for the account it was pushed to.
    status, answer = fake.pull_doc(sanad_url, partner, uri, account)
    assert status == 200
    assert answer is not None
    stored = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    assert (answer.status, answer.doc_content) == ("1", stored)

    revoked = client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "error"}, headers=dept.headers)
    assert revoked.status_code == 200, revoked.text
    _deliver(backend)
    assert [p["action"] for p in fake.pushes] == ["A", "D"]
    assert fake.pushes[1]["uri"] == uri


def test_digilocker_pulls_over_http(
    client: TestClient, dept: IssuingDepartment, connected: tuple[DigiLockerStandIn, Partner], sanad_url: str
) -> None:
    fake, partner = connected
    mobile = new_mobile()
    record = issue_to(client, dept, mobile)
    account = "0b0b0b0b-e89b-12d3-a456-426655440000"
    status, answer = fake.pull_uri(
        sanad_url, partner, number=str(record["id"]), mobile=mobile, full_name="Gurpreet Singh", digilocker_id=account
    )
    assert status == 200
    assert answer is not None
    assert (answer.status, answer.uri) == ("1", f"{partner.issuer_id}-INCER-{record['id']}")
    status, doc = fake.pull_doc(sanad_url, partner, str(answer.uri), account)
    assert doc is not None
    assert (doc.status, doc.doc_content) == ("1", answer.doc_content)
    wrong = Partner(**{**partner.__dict__, "api_key": "a-key-digilocker-never-had"})
    assert (
        fake.pull_uri(sanad_url, wrong, number=str(record["id"]), mobile=mobile, full_name="Gurpreet Singh")[0] == 401
    )


def test_outages_are_retried_with_doubling_waits(
    client: TestClient, backend: Backend, dept: IssuingDepartment, standin: tuple[DigiLockerStandIn, str]
) -> None:
    fake, _ = standin
    _partner(backend, dept, standin)
    mobile = new_mobile()
    fake.open_account(mobile)
    record = issue_to(client, dept, mobile)
    fake.outages = 2
    now = datetime.now(UTC)

    _deliver(backend, now)
    push = _pushes(backend, str(record["id"]))[0]
    assert (push.status, push.attempts) == (PushStatus.PENDING, 1)
    assert "HTTP 503" in str(push.last_error)
    assert push.next_attempt_at == now + timedelta(minutes=1)
    _deliver(backend, now + timedelta(seconds=30))  # not due yet
    assert _pushes(backend, str(record["id"]))[0].attempts == 1
    _deliver(backend, now + timedelta(minutes=1))
    push = _pushes(backend, str(record["id"]))[0]
    assert (push.attempts, push.next_attempt_at) == (2, now + timedelta(minutes=3))
    _deliver(backend, now + timedelta(minutes=3))
    assert _pushes(backend, str(record["id"]))[0].status == PushStatus.SENT
    assert len(fake.pushes) == 1


def test_a_push_that_keeps_failing_is_marked_failed_and_listed(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    standin: tuple[DigiLockerStandIn, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, _ = standin
    partner = _partner(backend, dept, standin)
    fake.client_secret = "not-what-sanad-was-given"  # every call is refused: 401
    mobile = new_mobile()
    fake.open_account(mobile)
    record = issue_to(client, dept, mobile)
    with backend.context.sessions() as s:
        push = s.scalars(select(DigilockerPush).where(DigilockerPush.document_id == record["id"])).one()
        push.attempts = MAX_ATTEMPTS - 1
        s.commit()

    with caplog.at_level(logging.DEBUG):
        _deliver(backend)

    with backend.context.sessions() as s:
        failed = [p for p in list_pushes(s, PushStatus.FAILED, 100) if p.document_id == record["id"]]
    assert len(failed) == 1
    assert "HTTP 401" in str(failed[0].last_error)
    assert partner.client_secret not in caplog.text
    assert partner.client_secret not in str(failed[0].last_error)

    fake.client_secret = partner.client_secret  # the credentials are put right; a person retries
    with backend.context.sessions() as s:
        assert retry_push(s, failed[0].id, datetime.now(UTC))
        assert not retry_push(s, failed[0].id, datetime.now(UTC))  # no longer failed
        s.commit()
    _deliver(backend)
    assert _pushes(backend, str(record["id"]))[0].status == PushStatus.SENT


def test_no_account_for_the_number_is_skipped_not_failed(
    client: TestClient, backend: Backend, dept: IssuingDepartment, standin: tuple[DigiLockerStandIn, str]
) -> None:
    fake, _ = standin
    _partner(backend, dept, standin)
    record = issue_to(client, dept, new_mobile())
    _deliver(backend)
    assert _pushes(backend, str(record["id"]))[0].status == PushStatus.SKIPPED
    assert fake.pushes == []


def test_nothing_is_queued_without_push_credentials_or_a_mobile(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    register(backend, dept.department, pushing=False)
    record = issue_to(client, dept, new_mobile())
    assert _pushes(backend, str(record["id"])) == []


def test_a_department_sees_its_own_pushes_and_their_errors(
    client: TestClient, backend: Backend, dept: IssuingDepartment, connected: tuple[DigiLockerStandIn, Partner]
) -> None:
    fake, _ = connected
    fake.outages = 1
    mobile = new_mobile()
    fake.open_account(mobile)
    record = issue_to(client, dept, mobile)
    _deliver(backend)
    other = create_department(backend)
    listed = client.get("/api/v1/digilocker/pushes", headers=dept.headers).json()
    assert [(p["document_id"], p["status"], p["attempts"]) for p in listed] == [(record["id"], "pending", 1)]
    assert "HTTP 503" in listed[0]["last_error"]
    assert client.get("/api/v1/digilocker/pushes", headers=other.headers).json() == []
    assert client.get("/api/v1/digilocker/pushes?status=failed", headers=dept.headers).json() == []
    assert client.get("/api/v1/digilocker/pushes").status_code == 401


def test_certificates_issued_in_a_batch_are_pushed_too(
    client: TestClient, backend: Backend, dept: IssuingDepartment, connected: tuple[DigiLockerStandIn, Partner]
) -> None:
    fake, _ = connected
    mobiles = [new_mobile(), new_mobile()]
    for mobile in mobiles:
        fake.open_account(mobile)
    content = csv_file(row(citizen_mobile=mobile) for mobile in mobiles)
    submitted = submit(client, dept, content)
    assert submitted.status_code == 202, submitted.text
    run_jobs(backend)
    issued = [r["document_id"] for r in results(client, dept, submitted.json()["id"])]
    assert len(issued) == 2
    _deliver(backend)
    assert sorted(p["docid"] for p in fake.pushes) == sorted(issued)


def test_suspension_and_reinstatement_push_u_and_the_uri_stays(
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    connected: tuple[DigiLockerStandIn, Partner],
    sanad_url: str,
) -> None:
    fake, partner = connected
    mobile = new_mobile()
    account = fake.open_account(mobile)
    record = issue_to(client, dept, mobile)
    document_id = str(record["id"])
    uri = f"{partner.issuer_id}-INCER-{document_id}"
    _deliver(backend)

    suspended = client.post(
        f"/api/v1/documents/{document_id}/suspend", json={"reason": "under_investigation"}, headers=dept.headers
    )
    assert suspended.status_code == 200, suspended.text
    _deliver(backend)
    # U keeps the URI in the account (D would delete it); the content is refused while suspended.
    assert [(p["action"], p["uri"]) for p in fake.pushes] == [("A", uri), ("U", uri)]
    status, answer = fake.pull_doc(sanad_url, partner, uri, account)
    assert answer is not None
    assert (status, answer.status, answer.doc_content) == (200, "0", None)

    reinstated = client.post(f"/api/v1/documents/{document_id}/reinstate", json={}, headers=dept.headers)
    assert reinstated.status_code == 200, reinstated.text
    pushes = _pushes(backend, document_id)
    update = next(p for p in pushes if p.action == "U")
    assert (update.status, update.details) == (PushStatus.PENDING, {"event": "reinstated"})
    _deliver(backend)
    assert [p["action"] for p in fake.pushes] == ["A", "U", "U"]
    assert sorted(p.action for p in _pushes(backend, document_id)) == ["A", "U"]  # one row per action
    status, answer = fake.pull_doc(sanad_url, partner, uri, account)
    assert answer is not None
    assert answer.status == "1"
    assert answer.doc_content == client.get(f"/api/v1/documents/{document_id}/content", headers=dept.headers).content


def test_a_suspension_refused_by_the_registry_queues_nothing(
    client: TestClient, backend: Backend, dept: IssuingDepartment, connected: tuple[DigiLockerStandIn, Partner]
) -> None:
    fake, _ = connected
    mobile = new_mobile()
    fake.open_account(mobile)
    record = issue_to(client, dept, mobile)
    document_id = str(record["id"])
    assert client.post(f"/api/v1/documents/{document_id}/reinstate", json={}, headers=dept.headers).status_code == 409
    assert [p.action for p in _pushes(backend, document_id)] == ["A"]
