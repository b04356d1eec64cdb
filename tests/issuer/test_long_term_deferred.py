"""The long-term revision added after the answer (issuer/long_term_tasks.py): issuing
answers with a B-T file, the job engine adds B-LTA seconds later, and every moment in
between (and every crash) leaves a document that verifies, on both backends."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.context import AppContext
from app.factory import create_app
from app.jobs import drain
from issuer import long_term_tasks, service
from issuer.render import CertificateRenderer
from issuer.templates import TemplateSpec
from sanad.ids import sha256_hex
from sanad.storage import ObjectStore
from tests.conftest import Backend, IssuingDepartment, client_address, income_certificate
from tests.issuer.batches_helpers import results, rows_csv, submit
from trust.ca import trust_anchors_pem
from trust.revocation import CrlFetcher
from verifier.pdf import TrustAnchors, check_signature


@pytest.fixture
def deferred(
    backend: Backend, templates: dict[str, TemplateSpec], renderer: CertificateRenderer
) -> Iterator[AppContext]:
    """The deployment default: long-term revisions on the job engine (the shared test
    backends add them in line)."""
    settings = backend.settings.model_copy(update={"long_term_deferred": True})
    context = AppContext.assemble(settings, backend.engine, backend.store, templates, renderer)
    yield context
    context.jobs.close()


@pytest.fixture
def deferred_client(deferred: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context=deferred), client=client_address()) as c:
        yield c


@pytest.fixture
def anchors(keys_dir: Path) -> TrustAnchors:
    return TrustAnchors.from_pem(trust_anchors_pem(keys_dir), CrlFetcher(ttl=0))


def _issue(
    client: TestClient, dept: IssuingDepartment, body: dict[str, object] | None = None, **headers: str
) -> dict[str, object]:
    body = body or income_certificate()
    response = client.post("/api/v1/documents", json=body, headers={**dept.headers, **headers})
    assert response.status_code == 201, response.text
    record: dict[str, object] = response.json()
    return record


def _content(client: TestClient, dept: IssuingDepartment, document_id: object) -> bytes:
    content: bytes = client.get(f"/api/v1/documents/{document_id}/content", headers=dept.headers).content
    return content


def _record(client: TestClient, dept: IssuingDepartment, document_id: object) -> dict[str, object]:
    record: dict[str, object] = client.get(f"/api/v1/documents/{document_id}", headers=dept.headers).json()
    return record


def test_issue_answers_at_b_t_and_the_job_adds_b_lta(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment, anchors: TrustAnchors
) -> None:
    record = _issue(deferred_client, dept)
    pending = _content(deferred_client, dept, record["id"])
    between = check_signature(pending, anchors)

    drain(deferred)

    final_record = _record(deferred_client, dept, record["id"])
    final = _content(deferred_client, dept, record["id"])
    after = check_signature(final, anchors)
    # Between issue and augmentation: the level asked for, marked pending; a valid B-T file.
    assert (record["signature_level"], record["long_term_pending"]) == ("B-LTA", True)
    assert record["archive_expires_at"] is None
    assert between.passed, between.findings
    assert between.level == "B-T"
    # After: the same document and signed revision, one revision longer, at B-LTA.
    assert (final_record["signature_level"], final_record["long_term_pending"]) == ("B-LTA", False)
    assert final_record["archive_expires_at"] is not None
    assert final_record["signed_sha256"] == record["signed_sha256"]
    assert final_record["sha256"] != record["sha256"]
    assert final.startswith(pending)
    assert after.passed, after.findings
    assert after.level == "B-LTA"


def test_the_public_record_gives_the_file_s_level_and_says_the_revision_is_pending(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment
) -> None:
    record = _issue(deferred_client, dept)
    with deferred.sessions() as session:
        before = service.public_record(session, str(record["id"]))

    drain(deferred)

    with deferred.sessions() as session:
        after = service.public_record(session, str(record["id"]))
    assert before is not None
    assert after is not None
    # The public record describes the file anyone may hold: B-T until the revision is added.
    assert (before.signature_level, before.long_term_pending) == ("B-T", True)
    assert (after.signature_level, after.long_term_pending) == ("B-LTA", False)


def test_an_idempotent_replay_returns_the_document_as_it_is_now(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment
) -> None:
    body = income_certificate()
    first = _issue(deferred_client, dept, body, **{"Idempotency-Key": "long-term-replay"})
    replay_before = _issue(deferred_client, dept, body, **{"Idempotency-Key": "long-term-replay"})

    drain(deferred)

    replay_after = _issue(deferred_client, dept, body, **{"Idempotency-Key": "long-term-replay"})
    current = _record(deferred_client, dept, first["id"])
    assert replay_before["id"] == replay_after["id"] == first["id"]
    assert replay_before["sha256"] == first["sha256"]
    # The same document, its digest now the augmented file's: what a download returns.
    assert replay_after["sha256"] == current["sha256"] != first["sha256"]
    assert replay_after["signed_sha256"] == first["signed_sha256"]
    assert replay_after["long_term_pending"] is False


def test_one_call_augments_a_whole_chunk(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment, anchors: TrustAnchors
) -> None:
    ids = [str(_issue(deferred_client, dept)["id"]) for _ in range(3)]

    with deferred.sessions() as session:
        outcome = service.add_long_term_revisions(session, deferred.kit, document_ids=ids)
    drain(deferred)  # the jobs issuing deferred find nothing left to do

    assert sorted(outcome.raised) == sorted(ids)
    assert (outcome.waiting, outcome.failed) == ({}, {})
    for document_id in ids:
        check = check_signature(_content(deferred_client, dept, document_id), anchors)
        assert (check.passed, check.level) == (True, "B-LTA")


def test_the_sweep_takes_documents_whose_job_was_lost(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment
) -> None:
    record = _issue(deferred_client, dept)
    deferred.jobs.close()  # the process holding the job died (embedded jobs live in memory)

    with deferred.sessions() as session:
        too_soon = service.add_long_term_revisions(
            session, deferred.kit, issued_before=datetime.now(UTC) - long_term_tasks.SWEEP_AFTER
        )
        later = service.add_long_term_revisions(
            session, deferred.kit, issued_before=datetime.now(UTC) + timedelta(minutes=5)
        )

    assert record["id"] not in too_soon.raised
    assert record["id"] in later.raised
    assert _record(deferred_client, dept, record["id"])["long_term_pending"] is False


@dataclasses.dataclass
class _Crashing:
    """The real store, with the process dying at one step of the move."""

    inner: ObjectStore
    crash_on: str
    """``put``: dies right after writing the new object; ``delete``: before removing the old."""

    def put(self, key: str, data: bytes, content_type: str, *, sha256: str | None = None) -> None:
        self.inner.put(key, data, content_type, sha256=sha256)
        if self.crash_on == "put":
            raise SystemExit("killed")

    def delete(self, key: str) -> None:
        if self.crash_on == "delete":
            raise SystemExit("killed")
        self.inner.delete(key)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.mark.parametrize("crash_on", ["put", "delete"])
def test_a_crash_during_the_move_leaves_a_document_that_verifies(
    deferred: AppContext,
    deferred_client: TestClient,
    dept: IssuingDepartment,
    anchors: TrustAnchors,
    crash_on: str,
) -> None:
    record = _issue(deferred_client, dept)
    crashing = dataclasses.replace(deferred.kit, store=_Crashing(deferred.store, crash_on))  # type: ignore[arg-type]

    with deferred.sessions() as session, pytest.raises(SystemExit):
        service.add_long_term_revisions(session, crashing, document_ids=[str(record["id"])])

    now = _record(deferred_client, dept, record["id"])
    stored = _content(deferred_client, dept, record["id"])
    check = check_signature(stored, anchors)
    assert check.passed, check.findings
    assert sha256_hex(stored) == now["sha256"]
    with deferred.sessions() as session:
        orphans = service.find_orphans(session, deferred.store, now=datetime.now(UTC) + timedelta(days=2))
    assert len([key for key in orphans if str(record["id"]) in key]) == 1  # for 'sanad fsck --fix'
    if crash_on == "put":
        # The row never moved: still B-T, still pending, taken again by the next run.
        assert (now["long_term_pending"], check.level) == (True, "B-T")
        with deferred.sessions() as session:
            again = service.add_long_term_revisions(session, deferred.kit, document_ids=[str(record["id"])])
        assert again.raised == [record["id"]]
    else:
        # The row moved with the commit; only the old copy is left over.
        assert (now["long_term_pending"], check.level) == (False, "B-LTA")


def test_a_document_already_augmented_is_not_augmented_again(
    deferred: AppContext, deferred_client: TestClient, dept: IssuingDepartment
) -> None:
    record = _issue(deferred_client, dept)
    drain(deferred)
    augmented = _record(deferred_client, dept, record["id"])

    with deferred.sessions() as session:
        outcome = service.add_long_term_revisions(session, deferred.kit, document_ids=[str(record["id"])])

    assert outcome.raised == []
    assert _record(deferred_client, dept, record["id"])["sha256"] == augmented["sha256"]


def test_a_batch_stores_its_documents_at_b_lta_without_a_job_per_chunk(
    backend: Backend,
    deferred: AppContext,
    deferred_client: TestClient,
    dept: IssuingDepartment,
    anchors: TrustAnchors,
) -> None:
    rows = 3
    batch = submit(deferred_client, dept, rows_csv(rows)).json()
    assert batch["status"] == "queued", batch

    # The batch alone: its chunk adds the long-term revisions itself, before storing.
    drain(deferred, queues=["batches"])

    ids = [row["document_id"] for row in results(deferred_client, dept, batch["id"])]
    assert len(ids) == rows
    for document_id in ids:
        record = _record(deferred_client, dept, document_id)
        assert (record["signature_level"], record["long_term_pending"]) == ("B-LTA", False)
        content = _content(deferred_client, dept, document_id)
        assert sha256_hex(content) == record["sha256"]
        check = check_signature(content, anchors)
        assert check.passed, check.findings
        assert check.level == "B-LTA"
    if backend.name == "postgres-minio":
        with deferred.sessions() as session:
            queued = session.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task"),
                {"task": long_term_tasks.AUGMENT},
            ).scalar_one()
        assert queued == 0
