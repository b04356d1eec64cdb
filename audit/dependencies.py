"""What the log's commands and periodic job are given: the settings, the database and
the notary that signs checkpoints (built by the composition root)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoints import Notary
from sanad.settings import Settings


class AuditContext(Protocol):
    settings: Settings
    sessions: sessionmaker[Session]

    @property
    def audit_notary(self) -> Notary: ...
