"""A citizen's locker moved to another number: their applications go with it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from intake import repository


def move_applications(session: Session, old_mobile: str, new_mobile: str) -> int:
    """Listener of :mod:`accounts.number_moves`: every application made with
    ``old_mobile`` now belongs to ``new_mobile``; how many moved."""
    return repository.move_applicant_mobile(session, old_mobile, new_mobile)
