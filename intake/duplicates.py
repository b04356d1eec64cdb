"""The duplicate check at the counter: has this citizen already applied for this service
with the very same answers lately? A second identical case doubles an office's work and
the citizen's wait, and a walk-in citizen often does not know the first one went in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake import repository
from intake.models import Application

DUPLICATE_WINDOW = timedelta(days=30)
"""How far back an identical application counts as a duplicate, unless configured."""


def _canonical(answers: Mapping[str, object]) -> str:
    # Stored answers come back from JSON; compare both sides in that one spelling, and
    # leave out blank optional answers, which the form may send or omit.
    present = {name: value for name, value in answers.items() if value not in (None, "")}
    return json.dumps(present, sort_keys=True, ensure_ascii=False, default=str)


def find_duplicate(
    session: Session,
    *,
    service_code: str,
    mobile: str,
    answers: Mapping[str, object],
    now: datetime,
    window: timedelta = DUPLICATE_WINDOW,
) -> Application | None:
    """The newest application for ``service_code`` from ``mobile`` filed within ``window``
    before ``now`` whose cleaned answers equal ``answers``; None if there is none (or the
    window is zero: the check is off)."""
    if window <= timedelta(0):
        return None
    wanted = _canonical(answers)
    for candidate in repository.recent_for_service(session, mobile, service_code, now - window):
        if _canonical(candidate.form) == wanted:
            return candidate
    return None
