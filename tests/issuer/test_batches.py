"""Bulk issuing on both backends: the contract, exactly one document per row, idempotent
resubmission, cancelling, and another department's batches."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from issuer import batches, batches_submit
from issuer.batches_models import Batch, BatchRow, BatchStatus, RowStatus
from issuer.models import Document
from sanad.models import DevMessage
from tests.conftest import Backend, IssuingDepartment, create_department
from tests.issuer.batches_helpers import jsonl_file, results, row, rows_csv, run_jobs, submit


def _documents_of(backend: Backend, batch_id: str) -> list[Document]:
    with backend.context.sessions() as s:
        query = select(Document).where(Document.idempotency_key.like(f"batch:{batch_id}:%"))
        return list(s.scalars(query))


def test_a_csv_batch_issues_one_document_per_row(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    response = submit(client, dept, rows_csv(3))

    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["status"] == "queued"
    assert batch["rows_total"] == 3
    assert response.headers["location"] == f"/api/v1/batches/{batch['id']}"

    run_jobs(backend)

    status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
    assert status["status"] == "completed"
    assert (status["rows_done"], status["rows_failed"]) == (3, 0)
    assert status["rate_per_s"] > 0
    assert status["eta_s"] == 0
    assert status["finished_at"] is not None
    assert set(status) >= {"id", "type", "status", "rows_total", "rows_done", "rows_failed", "rate_per_s", "eta_s"}
    lines = results(client, dept, batch["id"])
    assert [line["row"] for line in lines] == [1, 2, 3]
    assert all(line["status"] == "issued" and line["error"] is None for line in lines)
    assert list(lines[0]) == ["row", "citizen_id", "document_id", "sha256", "verify_url", "status", "error"]
    for line in lines:
        record = client.get(f"/api/v1/documents/{line['document_id']}", headers=dept.headers).json()
        assert record["sha256"] == line["sha256"]
        assert line["verify_url"] == record["verify_url"]
    assert len(_documents_of(backend, batch["id"])) == 3


def test_a_json_lines_batch_and_its_csv_results(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    line = {"citizen_id": "JL-1", "data": {k: v for k, v in row().items() if k != "citizen_id"}}
    batch = submit(client, dept, jsonl_file([line]), filename="rows.jsonl").json()

    run_jobs(backend)

    answer = client.get(f"/api/v1/batches/{batch['id']}/results", headers={**dept.headers, "Accept": "text/csv"})
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(answer.text)))
    assert table[0] == ["row", "citizen_id", "document_id", "sha256", "verify_url", "status", "error"]
    assert table[1][:2] == ["1", "JL-1"]
    assert table[1][5] == "issued"


def test_every_invalid_row_is_reported_and_nothing_is_issued(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    content = rows_csv(2)[:-1] + b"\n" + rows_csv(1).split(b"\n", 1)[1]  # three valid rows
    bad = [row("OK-1"), row("BAD 2"), row("OK-3", annual_income="lots"), row("OK-4", holder_name="")]
    from tests.issuer.batches_helpers import csv_file

    response = submit(client, dept, csv_file(bad))

    assert response.status_code == 202
    batch = response.json()
    assert batch["status"] == "invalid"
    assert batch["rows_total"] == 4
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=dept.headers).json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "citizen_id"), (3, "annual_income"), (4, "holder_name")}
    as_csv = client.get(f"/api/v1/batches/{batch['id']}/errors", headers={**dept.headers, "Accept": "text/csv"})
    assert as_csv.text.splitlines()[0] == "row,field,message"
    assert len(as_csv.text.splitlines()) == 4
    run_jobs(backend)
    assert _documents_of(backend, batch["id"]) == []
    assert results(client, dept, batch["id"]) == []
    assert content  # the valid file is accepted as such below
    assert submit(client, dept, content).json()["status"] == "queued"


def test_duplicate_rows_make_the_batch_invalid(client: TestClient, dept: IssuingDepartment) -> None:
    from tests.issuer.batches_helpers import csv_file

    twin = row("TWIN-1")
    batch = submit(client, dept, csv_file([twin, row("OTHER-1"), twin])).json()

    assert batch["status"] == "invalid"
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=dept.headers).json()["errors"]
    assert errors == [{"row": 3, "field": "row", "message": "duplicates row 1: the same citizen and data twice"}]


def test_a_dry_run_checks_and_issues_nothing(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    checked = submit(client, dept, rows_csv(2), dry_run=True).json()

    assert (checked["status"], checked["dry_run"], checked["rows_total"]) == ("completed", True, 2)
    run_jobs(backend)
    assert _documents_of(backend, checked["id"]) == []
    from tests.issuer.batches_helpers import csv_file

    failing = submit(client, dept, csv_file([row("X", annual_income="-")]), dry_run=True).json()
    assert failing["status"] == "invalid"


def test_the_same_idempotency_key_returns_the_same_batch(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    content = rows_csv(2)
    first = submit(client, dept, content, key="exam-2026")
    run_jobs(backend)

    again = submit(client, dept, content, key="exam-2026")

    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["status"] == "completed"
    run_jobs(backend)
    assert len(_documents_of(backend, first.json()["id"])) == 2
    other_file = submit(client, dept, rows_csv(1), key="exam-2026")
    assert other_file.status_code == 422
    assert other_file.json()["fields"][0]["field"] == "Idempotency-Key"


def test_a_rerun_after_a_crash_finds_the_documents_it_issued(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    """A worker that died after issuing but before recording its chunk: the rows are still
    pending, and running them again issues nothing new."""
    batch = submit(client, dept, rows_csv(3)).json()
    run_jobs(backend)
    issued = {d.id for d in _documents_of(backend, batch["id"])}
    with backend.context.sessions.begin() as s:  # forget the outcomes, as a crash would
        s.execute(
            update(BatchRow)
            .where(BatchRow.batch_id == batch["id"])
            .values(status=RowStatus.PENDING, document_id=None, sha256=None)
        )
        s.execute(update(Batch).where(Batch.id == batch["id"]).values(status=BatchStatus.RUNNING, rows_done=0))

    assert batches.resume_stalled(backend.context) == 0  # it made progress just now
    with backend.context.sessions.begin() as s:
        backend.context.jobs.defer(s, batches_submit.PROCESS_BATCH, {"batch_id": batch["id"]})
    run_jobs(backend)

    assert {d.id for d in _documents_of(backend, batch["id"])} == issued
    status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
    assert (status["status"], status["rows_done"]) == ("completed", 3)
    assert {line["document_id"] for line in results(client, dept, batch["id"])} == issued


def test_cancelling_stops_the_rows_not_yet_issued(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    batch = submit(client, dept, rows_csv(3)).json()

    cancelled = client.post(f"/api/v1/batches/{batch['id']}/cancel", headers=dept.headers)
    run_jobs(backend)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _documents_of(backend, batch["id"]) == []
    assert {line["status"] for line in results(client, dept, batch["id"])} == {"cancelled"}
    again = client.post(f"/api/v1/batches/{batch['id']}/cancel", headers=dept.headers)
    assert again.status_code == 409


def test_another_departments_batch_is_not_found(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    batch = submit(client, dept, rows_csv(1), dry_run=True).json()
    other = create_department(backend)

    for method, path in [
        ("GET", ""),
        ("GET", "/errors"),
        ("GET", "/results"),
        ("POST", "/cancel"),
    ]:
        answer = client.request(method, f"/api/v1/batches/{batch['id']}{path}", headers=other.headers)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "not_found"
    assert client.get("/api/v1/batches/nosuchbatch", headers=dept.headers).status_code == 404
    assert client.get(f"/api/v1/batches/{batch['id']}").status_code == 401


def test_the_department_is_told_when_its_batch_finishes(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    batch = submit(client, dept, rows_csv(1)).json()

    run_jobs(backend)

    with backend.context.sessions() as s:
        notices = list(
            s.scalars(select(DevMessage.body).where(DevMessage.recipient == f"department:{dept.department.code}"))
        )
    assert len(notices) == 1
    assert batch["id"] in notices[0]
    assert "1 of 1 rows issued" in notices[0]


def test_a_row_that_cannot_be_issued_is_reported_and_the_rest_are_issued(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    batch = submit(client, dept, rows_csv(2)).json()
    with backend.context.sessions.begin() as s:  # a row that became invalid after the check
        stored = s.get(BatchRow, (batch["id"], 2))
        assert stored is not None
        stored.request = {**stored.request, "valid_until": "2000-01-01"}

    run_jobs(backend)

    status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
    assert (status["status"], status["rows_done"], status["rows_failed"]) == ("completed_with_errors", 1, 1)
    lines = results(client, dept, batch["id"])
    assert [line["status"] for line in lines] == ["issued", "failed"]
    assert "valid_until" in lines[1]["error"]
    with backend.context.sessions() as s:
        count = s.scalar(select(func.count()).select_from(Document).where(Document.department_id == dept.department.id))
    assert count == 1
