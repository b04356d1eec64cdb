"""Checking and storing a batch file takes memory that does not grow with its rows beyond
what duplicate detection needs (a digest per row): rows are read, checked and written a
page at a time, never held as a whole-file list."""

from __future__ import annotations

import io
import tracemalloc

from sqlalchemy import func, select

from issuer import batches, batches_submit
from issuer.batches_models import BatchRow
from tests.conftest import Backend, IssuingDepartment
from tests.issuer.batches_helpers import TYPE, rows_csv

#: What one row may leave behind while the file is read: its digest for duplicate
#: detection (a dictionary entry, ~150 bytes). A row kept whole is ten times that.
BYTES_PER_ROW = 400


def _peak_while_submitting(backend: Backend, dept: IssuingDepartment, rows: int) -> int:
    """The peak of Python's allocations while a file of ``rows`` rows is checked and stored."""
    stream = io.BytesIO(rows_csv(rows))  # the upload, already in memory, is not counted
    with backend.context.sessions() as session:
        tracemalloc.start()
        try:
            batch, _ = batches_submit.submit(
                session, backend.context, dept.department, document_type=TYPE, stream=stream
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        stored = session.scalar(select(func.count()).select_from(BatchRow).where(BatchRow.batch_id == batch.id))
        # Cancelled at once: the suite's other tests must not issue these rows.
        batches.cancel(session, dept.department, batch.id)
        session.commit()
    assert stored == rows
    return peak


def test_checking_a_file_keeps_no_rows_in_memory(backend: Backend, dept: IssuingDepartment) -> None:
    small, large = 1_000, 10_000

    growth = _peak_while_submitting(backend, dept, large) - _peak_while_submitting(backend, dept, small)

    assert growth / (large - small) < BYTES_PER_ROW, f"{growth / (large - small):.0f} bytes per row"
