"""A citizen's locker moved to another number: the documents issued to the old number,
and the citizen records naming it, now name the new one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from issuer import repository


def move_documents(session: Session, old_mobile: str, new_mobile: str) -> int:
    """Move in the caller's transaction; how many documents moved. The signed files are
    untouched: they do not print the number, only the registry binds them to it."""
    return repository.move_holder_mobile(session, old_mobile, new_mobile)
