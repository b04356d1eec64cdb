"""Sessions, for citizens and staff alike: a random token handed out once (the page
cookie's value or the API bearer token), of which only the hash is kept; it opens the
session until it expires or is ended. Each kind of account keeps its sessions in a table
of its own, described by a :class:`SessionKind`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from accounts import repository
from accounts.models import TokenSession
from sanad.ids import sha256_hex

Owner = TypeVar("Owner")

TOKEN_BYTES = 32
"""256 random bits: never guessed, so the token alone proves the session."""


@dataclass(frozen=True)
class NewSession:
    token: str
    """Shown once; only its hash is stored."""
    expires_at: datetime


@dataclass(frozen=True)
class SessionKind(Generic[Owner]):
    """One kind of account's sessions."""

    table: type[TokenSession]
    owner: type[Owner]
    """The account a session belongs to."""
    owner_column: str
    """The session table's column naming its account."""
    joined_on: ColumnElement[bool]
    """How a session row meets its account's."""
    owner_must: tuple[ColumnElement[bool], ...] = ()
    """What the account must be for its sessions to count (still active, say)."""

    def start(self, session: Session, owner_id: object, now: datetime, lifetime: timedelta) -> NewSession:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires_at = now + lifetime
        owner = {self.owner_column: owner_id}
        session.add(self.table(token_hash=sha256_hex(token), created_at=now, expires_at=expires_at, **owner))
        return NewSession(token=token, expires_at=expires_at)

    def owner_of(self, session: Session, token: str, now: datetime) -> Owner | None:
        """The account whose session ``token`` opens, or None if it expired or was ended."""
        return repository.owner_of_session(
            session, self.owner, self.table, self.joined_on, sha256_hex(token), now, *self.owner_must
        )

    def live_owner_query(self, *columns: ColumnElement[Any]) -> Select[Any]:
        """``columns`` of the account whose session the parameters (:meth:`parameters`)
        open: for a query that reads more in the same round trip. Build it once."""
        return repository.live_session_owner_query(self.owner, self.table, self.joined_on, columns, *self.owner_must)

    @staticmethod
    def parameters(token: str, now: datetime) -> dict[str, object]:
        """The parameters of :meth:`live_owner_query` for ``token`` at ``now``."""
        return {"token_hash": sha256_hex(token), "now": now}

    def end(self, session: Session, token: str, now: datetime) -> None:
        """The token stops working at once."""
        repository.end_session(session, self.table, sha256_hex(token), now)

    def end_others(self, session: Session, owner_id: object, keep_token: str, now: datetime) -> int:
        """End every session of the account but the one ``keep_token`` opens; how many."""
        owner = getattr(self.table, self.owner_column) == owner_id
        return repository.end_sessions_except(session, self.table, owner, sha256_hex(keep_token), now)

    def forget(self, session: Session, *, expired_before: datetime) -> int:
        """Delete sessions that expired before then; how many."""
        return repository.delete_sessions(session, self.table, expired_before=expired_before)
