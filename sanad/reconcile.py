"""Finding objects no row references: what an interrupted write leaves behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sanad.storage import ObjectStore

# An object younger than this may belong to a write whose row is about to commit.
ORPHAN_GRACE = timedelta(minutes=15)


def find_unreferenced(
    store: ObjectStore, prefix: str, referenced: Callable[[list[str]], set[str]], *, now: datetime | None = None
) -> list[str]:
    """Keys under ``prefix``, older than the grace period, that ``referenced`` does not claim."""
    cutoff = (now or datetime.now(UTC)) - ORPHAN_GRACE
    orphans: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        claimed = referenced(batch)
        orphans.extend(k for k in batch if k not in claimed)
        batch.clear()

    for info in store.list(prefix):
        if info.modified > cutoff:
            continue
        batch.append(info.key)
        if len(batch) >= 500:
            flush()
    if batch:
        flush()
    return orphans
