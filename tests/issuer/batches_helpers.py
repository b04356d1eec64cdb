"""Making batch files and running a batch's jobs, for the bulk issuing tests."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app.jobs import drain
from issuer.models import Document
from tests.conftest import EXAMPLE_DATA, Backend, IssuingDepartment

TYPE = "income-certificate"
COLUMNS = ["citizen_id", "citizen_mobile", *EXAMPLE_DATA]


def row(citizen_id: str | None = None, **data: object) -> dict[str, object]:
    """One valid CSV row (the example certificate), with ``data`` overriding fields."""
    return {"citizen_id": citizen_id or f"CIT-{secrets.token_hex(4)}", **EXAMPLE_DATA, **data}


def csv_file(rows: Iterable[Mapping[str, object]], columns: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or COLUMNS, lineterminator="\n")
    writer.writeheader()
    for values in rows:
        writer.writerow({k: "" if v is None else v for k, v in values.items()})
    return buffer.getvalue().encode("utf-8")


def jsonl_file(lines: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def rows_csv(count: int, prefix: str | None = None) -> bytes:
    prefix = prefix or f"B{secrets.token_hex(3)}"
    return csv_file(row(f"{prefix}-{n}", purpose=f"Row {n}") for n in range(1, count + 1))


def submit(
    client: TestClient,
    dept: IssuingDepartment,
    content: bytes,
    *,
    document_type: str = TYPE,
    dry_run: bool = False,
    key: str | None = None,
    filename: str = "batch.csv",
) -> Response:
    headers = {**dept.headers, **({"Idempotency-Key": key} if key else {})}
    form = {"type": document_type, **({"dry_run": "true"} if dry_run else {})}
    response: Response = client.post("/api/v1/batches", files={"file": (filename, content)}, data=form, headers=headers)
    return response


def run_jobs(backend: Backend) -> None:
    """Run every batch job waiting (the in-process runner, or a Procrastinate worker)."""
    drain(backend.context, queues=["batches"])


def results(client: TestClient, dept: IssuingDepartment, batch_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/batches/{batch_id}/results", headers=dept.headers)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def documents_per_key(database: Session | Connection, prefix: str) -> dict[str, int]:
    """How many documents each idempotency key starting with ``prefix`` has (a batch's
    rows have ``batch:<id>:<row>``): exactly one each, after any fault."""
    rows = database.execute(
        select(Document.idempotency_key, func.count())
        .where(Document.idempotency_key.like(f"{prefix}%"))
        .group_by(Document.idempotency_key)
    )
    return {str(key): int(count) for key, count in rows}
