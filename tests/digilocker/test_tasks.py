"""DigiLocker's background work is on the job engine, and the replay window's upkeep
forgets only transaction ids that can no longer be replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.jobs import registry
from digilocker.models import DigilockerReplay
from digilocker.repository import remember_txn
from digilocker.tasks import forget_transactions
from tests.conftest import Backend, IssuingDepartment


def test_the_tasks_are_registered_with_their_schedules() -> None:
    tasks = registry()
    assert {"digilocker:deliver_pushes", "digilocker:forget_transactions"} <= set(tasks.tasks)
    assert "digilocker:deliver_pushes" in {name for name, _ in tasks.periodic}


def test_old_transaction_ids_are_forgotten_recent_ones_kept(backend: Backend, dept: IssuingDepartment) -> None:
    now = datetime.now(UTC)
    with backend.context.sessions() as s:
        assert remember_txn(s, dept.department.id, "old", now - timedelta(minutes=11))
        assert remember_txn(s, dept.department.id, "recent", now - timedelta(minutes=4))
        assert not remember_txn(s, dept.department.id, "recent", now)
        s.commit()
    forget_transactions(backend.context)
    with backend.context.sessions() as s:
        kept = set(s.scalars(select(DigilockerReplay.txn).where(DigilockerReplay.department_id == dept.department.id)))
    assert kept == {"recent"}
