"""What other domains read from the log: the entries about their own records (a citizen's
documents and consents, for the locker)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from audit import repository
from audit.entries import Entry, NotCanonical, parse


def entries_about(session: Session, subjects: Sequence[str], *, limit: int = 200) -> list[Entry]:
    """The newest entries about any of ``subjects`` (``document:<id>``, ``consent:<id>``),
    newest first, as their canonical text states them. An entry whose text is no longer
    canonical (tampered with) is left out here; ``sanad audit verify`` names it."""
    entries = []
    for row in repository.about(session, subjects, limit=limit):
        try:
            entries.append(parse(row.entry.encode("utf-8")))
        except NotCanonical:
            continue
    return entries
