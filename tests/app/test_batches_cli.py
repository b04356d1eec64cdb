"""``sanad batch`` and ``sanad worker`` on the embedded deployment, as an operator would use
them: submit a file and wait (the command renders and signs on a process pool), read the
status and results, resubmit safely, cancel; ``sanad serve`` runs the background work."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from app import serving
from tests.issuer.batches_helpers import rows_csv
from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_submit_wait_status_results_and_resubmit(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANAD_BATCH_PROCESSES", "2")
    monkeypatch.setenv("SANAD_BATCH_CHUNK_ROWS", "2")
    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0
    rows = env / "scholarships.csv"
    rows.write_bytes(rows_csv(5))

    code, output = sanad("batch", "submit", str(rows), "--type", "income-certificate", "--department", "REV", "--wait")

    assert code == 0, output
    assert "5/5 rows" in output
    assert "rows/s" in output
    batch_id = output.split()[1]
    assert f"batch {batch_id}: completed, 5 rows, 5 issued, 0 failed" in output
    code, output = sanad("batch", "status", batch_id)
    assert code == 0
    assert "completed" in output
    code, output = sanad("batch", "results", batch_id, "--csv")
    table = list(csv.DictReader(io.StringIO(output)))
    assert [line["status"] for line in table] == ["issued"] * 5
    code, output = sanad("batch", "results", batch_id)
    assert len({json.loads(line)["document_id"] for line in output.splitlines()}) == 5

    code, output = sanad("batch", "submit", str(rows), "--type", "income-certificate", "--wait")
    assert code == 0, output
    assert f"batch {batch_id} (already submitted)" in output
    assert len(list((env / "objects" / "citizens").rglob("*.pdf"))) == 2 + 5  # the demo's two, then one per row
    assert sanad("batch", "cancel", batch_id)[0] == 1
    assert sanad("fsck")[0] == 0


def test_an_invalid_file_is_explained(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0
    bad = env / "bad.csv"
    bad.write_text("citizen_id,colour\nA-1,blue\n", "utf-8")

    code, output = sanad("batch", "submit", str(bad), "--type", "income-certificate")

    assert code == 1
    assert "colour: unknown column" in output
    assert "holder_name: missing column" in output


@pytest.mark.parametrize(("database", "in_process"), [("sqlite", "true"), ("postgresql", "false")])
def test_serve_runs_the_background_work_on_the_embedded_deployment(
    env: Path, monkeypatch: pytest.MonkeyPatch, database: str, in_process: str
) -> None:
    import os

    if database == "postgresql":
        monkeypatch.setenv("SANAD_DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1:1/none")
    monkeypatch.setenv("SANAD_IN_PROCESS_WORKER", "false")  # and restored after the test
    served: dict[str, Any] = {}
    monkeypatch.setattr(serving, "serve_http", lambda app, **options: served.update(options, app=app))

    code, output = sanad("serve", "--workers", "1")

    assert code == 0, output
    assert os.environ.get("SANAD_IN_PROCESS_WORKER") == in_process
