"""The periodic checkpoint: declared on the job engine, and signing only when the log grew."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from app.audit_notary import PkiNotary
from app.jobs import registry
from audit import repository, tasks
from audit.verification import verify_log
from sanad.settings import Settings
from tests.audit.conftest import FreshLog


@dataclass
class _Context:
    settings: Settings
    sessions: sessionmaker[Session]
    audit_notary: PkiNotary


def test_the_checkpoint_runs_every_ten_minutes() -> None:
    declared = registry()
    assert "audit:checkpoint" in declared.tasks
    (schedule,) = [s for name, s in declared.periodic if name == "audit:checkpoint"]
    assert schedule.cron == "*/10 * * * *"


def test_a_checkpoint_is_signed_only_when_entries_were_appended(fresh: FreshLog) -> None:
    context = _Context(Settings(_env_file=None), fresh.sessions, fresh.notary)
    assert tasks.checkpoint(context) == 0  # the empty tree is signed once
    assert tasks.checkpoint(context) is None
    fresh.append(3)
    assert tasks.checkpoint(context) == 3
    assert tasks.checkpoint(context) is None
    with fresh.sessions() as s:
        assert [c.tree_size for c in repository.checkpoints(s)] == [0, 3]
        assert verify_log(s, fresh.notary).intact
