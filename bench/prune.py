"""Remove a running batch's finished documents from MinIO, for batches whose documents
would not fit on the bench machine's disk (a million B-LTA documents are ~92 GB).

Only documents at their level are removed (``long_term_pending`` false): the long-term
revision reads the B-T file back and stores the result under a new key. Their rows stay
in PostgreSQL, and the bytes a document the bench records come from ``documents.size``,
so the storage figures are unchanged. The removal is extra work for MinIO on the same
cores: if anything it lowers the rate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Row, create_engine, text

from bench.backends import deployment_store, remove_objects

_ROWS_AFTER = text(
    "SELECT r.row, r.status, d.storage_key, d.long_term_pending "
    "FROM batch_rows r LEFT JOIN documents d ON d.id = r.document_id "
    "WHERE r.batch_id = :batch AND r.row > :after ORDER BY r.row LIMIT 5000"
)


def removable(rows: Sequence[Row[Any]], after: int) -> tuple[list[str], int]:
    """The object keys of ``rows`` (row, status, storage key, long-term pending; in row
    order, all after row ``after``) up to the first row still pending or still at B-T, and
    the last row number they reach (``after`` if none)."""
    keys, last = [], after
    for row, status, key, long_term_pending in rows:
        if status == "pending" or long_term_pending:
            break
        if key is not None:  # a failed row has no document
            keys.append(key)
        last = row
    return keys, last


class Pruner:
    """Every ``interval`` seconds, removes the objects of the batch's rows done and at
    their level since the last pass, 1,000 keys a request. Jobs finish chunks out of
    order, so a pass goes only as far as the first row still pending (or still at B-T)
    and the next starts there: every document is removed once."""

    def __init__(self, env: dict[str, str], batch_id: str, interval: float = 20.0) -> None:
        self._store = deployment_store(env)
        self._engine = create_engine(env["SANAD_DATABASE_URL"])
        self._batch = batch_id
        self._interval = interval
        self._after = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-prune", daemon=True)
        self._failure: BaseException | None = None

    def _pass(self) -> None:
        while True:
            with self._engine.connect() as connection:
                rows = connection.execute(_ROWS_AFTER, {"batch": self._batch, "after": self._after}).all()
            keys, last = removable(rows, self._after)
            if last == self._after:
                return
            remove_objects(self._store, keys)
            self._after = last

    def _run(self) -> None:
        try:
            while not self._stopping.wait(self._interval):
                self._pass()
        except BaseException as e:  # reported by stop(): a run must not pass for pruned if it was not
            self._failure = e

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._engine.dispose()
        if self._failure is not None:
            raise RuntimeError("removing the batch's documents from MinIO stopped") from self._failure


@contextmanager
def pruning(env: dict[str, str], batch_id: str | None) -> Iterator[None]:
    """A :class:`Pruner` for ``batch_id`` running for as long as the block (none when
    ``batch_id`` is ``None``)."""
    if batch_id is None:
        yield
        return
    pruner = Pruner(env, batch_id)
    pruner.start()
    try:
        yield
    finally:
        pruner.stop()
