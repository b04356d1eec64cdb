"""``sanad batch submit`` on the job engine's deployment checks, stores and queues a file
without loading the issuing machinery: its start-up is part of every batch's time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from issuer import batches_submit
from tests.conftest import REPO, Backend, IssuingDepartment
from tests.issuer.batches_helpers import csv_file, row, rows_csv

#: What signs, renders, stores objects or serves: none of it is needed to queue a file.
ISSUING_MACHINERY = ("pyhanko", "typst", "minio", "fastapi", "segno")


def _submit(backend: Backend, file: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the command in a process of its own; returns it and the modules it imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_") or k.startswith("SANAD_TEST_")}
    env.update(
        SANAD_ENV="test",
        SANAD_DATABASE_URL=backend.settings.database_url,
        SANAD_KEYS_DIR=str(backend.settings.keys_dir),
        SANAD_STORAGE_BACKEND="minio",
        SANAD_MINIO_ENDPOINT=backend.settings.minio_endpoint,
        SANAD_MINIO_ACCESS_KEY=backend.settings.minio_access_key,
        SANAD_MINIO_SECRET_KEY=backend.settings.minio_secret_key,
        SANAD_MINIO_BUCKET=backend.settings.minio_bucket,
    )
    command = "import sys; from app.cli import main; sys.argv[0] = 'sanad'; main()"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", command, "batch", "submit", str(file), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, imported


@pytest.fixture
def postgres(backend: Backend) -> Backend:
    if backend.name == "embedded":
        pytest.skip("the embedded deployment's command runs the batch itself (--wait) or leaves it to the server")
    return backend


def test_a_file_is_checked_stored_and_queued_without_the_issuing_machinery(
    postgres: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    file = tmp_path / "rows.csv"
    file.write_bytes(rows_csv(3))

    done, imported = _submit(postgres, file, "--type", "income-certificate", "--department", dept.department.code)

    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "(submitted): queued" in done.stdout
    assert imported, "the command's imports were not reported"
    assert not imported & set(ISSUING_MACHINERY)
    batch_id = done.stdout.split()[1]
    with postgres.engine.connect() as connection:
        rows = connection.scalar(text("SELECT count(*) FROM batch_rows WHERE batch_id = :id"), {"id": batch_id})
        jobs = connection.execute(
            text(
                "SELECT queue_name, status FROM procrastinate_jobs WHERE task_name = :task AND args->>'batch_id' = :id"
            ),
            {"task": batches_submit.PROCESS_BATCH, "id": batch_id},
        ).all()
    assert rows == 3
    assert [tuple(job) for job in jobs] == [("batches", "todo")]


def test_a_file_with_an_invalid_row_is_refused_and_nothing_is_queued(
    postgres: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    file = tmp_path / "rows.csv"
    file.write_bytes(csv_file([row("GOOD-1"), row("BAD-1", annual_income="lots")]))

    done, _ = _submit(postgres, file, "--type", "income-certificate", "--department", dept.department.code)

    assert done.returncode == 1
    assert "(submitted): invalid" in done.stdout
    batch_id = done.stdout.split()[1]
    with postgres.engine.connect() as connection:
        jobs = connection.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'batch_id' = :id"), {"id": batch_id}
        )
        errors = connection.execute(
            text("SELECT row, field FROM batch_errors WHERE batch_id = :id"), {"id": batch_id}
        ).all()
    assert jobs == 0
    assert [tuple(error) for error in errors] == [(2, "annual_income")]
