"""Bulk issuing on both backends: every kind of bad file is refused with a message a clerk
understands, and nothing of it is kept; result files are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.context import AppContext
from app.factory import create_app
from issuer.batches_export import neutralise
from issuer.batches_models import Batch
from tests.conftest import Backend, IssuingDepartment, client_address
from tests.issuer.batches_helpers import COLUMNS, csv_file, jsonl_file, row, rows_csv, submit


def _batches_of(backend: Backend, dept: IssuingDepartment) -> int:
    with backend.context.sessions() as s:
        return int(
            s.scalar(select(func.count()).select_from(Batch).where(Batch.department_id == dept.department.id)) or 0
        )


def _refused(response: object, backend: Backend, dept: IssuingDepartment, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert _batches_of(backend, dept) == 0
    body = response.json()
    assert isinstance(body, dict)
    assert body["detail"]
    return body


def test_a_file_that_is_not_utf8_is_refused(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    latin1 = rows_csv(2).replace(b"Row 2", "Caf\u00e9".encode("latin-1"))  # a Windows-1252 e-acute

    body = _refused(submit(client, dept, latin1), backend, dept, 422)

    assert body["error"] == "invalid_file"
    assert "line 3 is not UTF-8" in str(body["detail"])


def test_a_utf16_file_is_refused_with_what_to_do(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    utf16 = rows_csv(1).decode().encode("utf-16")

    body = _refused(submit(client, dept, utf16), backend, dept, 422)

    assert "UTF-16" in str(body["detail"])
    assert "save it as UTF-8" in str(body["detail"])


def test_unknown_and_missing_columns_are_named(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    columns = [c for c in COLUMNS if c != "annual_income"] + ["income"]
    content = csv_file([{k: v for k, v in row().items() if k != "annual_income"} | {"income": "1"}], columns)

    body = _refused(submit(client, dept, content), backend, dept, 422)

    listed = body["fields"]
    assert isinstance(listed, list)
    fields = {f["field"]: f["message"] for f in listed}
    assert fields["income"].startswith("unknown column")
    assert fields["annual_income"] == "missing column"


def test_a_ten_megabyte_line_is_refused(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    content = csv_file([row("LONG-1", address="x" * (10 * 1024 * 1024))])

    body = _refused(submit(client, dept, content), backend, dept, 422)

    assert "line 2 is longer than 64 KB" in str(body["detail"])


def _client_with(backend: Backend, **settings: object) -> TestClient:
    """A client of a deployment with these settings changed, on the same database and store."""
    changed = backend.settings.model_copy(update=settings)
    context = AppContext.assemble(
        changed, backend.engine, backend.store, backend.context.kit.templates, backend.context.kit.renderer
    )
    return TestClient(create_app(context=context), client=client_address())


@pytest.fixture
def limited(backend: Backend) -> Iterator[TestClient]:
    """A deployment that allows 3 rows per batch."""
    with _client_with(backend, batch_max_rows=3) as client:
        yield client


def test_more_rows_than_the_limit_are_refused(limited: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    body = _refused(submit(limited, dept, rows_csv(4)), backend, dept, 413)

    assert body["error"] == "too_many_rows"
    assert "more than 3 rows" in str(body["detail"])
    assert submit(limited, dept, rows_csv(3), dry_run=True).status_code == 202


def test_a_type_the_department_may_not_issue_is_refused(backend: Backend, dept: IssuingDepartment) -> None:
    code = dept.department.code
    with _client_with(backend, department_types=f"{code}=birth-certificate,trade-licence;OTHER=x") as client:
        body = _refused(submit(client, dept, rows_csv(1)), backend, dept, 403)
        unknown = _refused(submit(client, dept, rows_csv(1), document_type="no-such-type"), backend, dept, 422)

    assert body["detail"] == (
        f"department {code} may not issue income-certificate; it may issue: birth-certificate, trade-licence"
    )
    assert "unknown document type" in str(unknown["detail"])


def test_a_file_with_no_rows_is_refused(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    body = _refused(submit(client, dept, ",".join(COLUMNS).encode() + b"\n"), backend, dept, 422)
    assert "no rows" in str(body["detail"])


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_formulas_are_neutralised_in_the_csv_files(client: TestClient, dept: IssuingDepartment, start: str) -> None:
    line = {"citizen_id": "F-1", f"{start}HYPERLINK(1)": "x", "data": {"holder_name": "x"}}
    batch = submit(client, dept, jsonl_file([line]), filename="f.jsonl").json()
    assert batch["status"] == "invalid"

    answer = client.get(f"/api/v1/batches/{batch['id']}/errors", headers={**dept.headers, "Accept": "text/csv"})

    cells = [cell for record in csv.reader(io.StringIO(answer.text)) for cell in record]
    assert f"'{start}HYPERLINK(1)" in cells
    assert not any(cell.startswith(start) for cell in cells)


def test_neutralise_leaves_ordinary_values_alone() -> None:
    assert neutralise("Gurpreet Singh") == "Gurpreet Singh"
    assert neutralise("-5") == "'-5"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise(None) == ""
    assert neutralise(12) == "12"
