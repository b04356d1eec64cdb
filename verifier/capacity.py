"""How much of the public verifier one client, and all clients together, may use.

Checking a PDF is the one public operation whose cost the caller chooses: pyHanko spends
seconds of CPU on a crafted 20 MB file. So each client address may have so many files
checked within a window (counted in the database with :mod:`accounts.limits`, so across
workers too), and each process checks so many at once; one more is refused with 503 and
Retry-After instead of queueing, where it would only hold its connection while every
other request of the process (``/health`` included) waited for the CPU.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from accounts import limits
from accounts.limits import Limit
from sanad.dependencies import get_context
from sanad.errors import ServiceUnavailable, TooManyRequests
from sanad.settings import Settings

UPLOAD = "verify"
"""The event counted per client address for each file sent to be checked."""


class VerifierBusy(ServiceUnavailable):
    code = "verifier_busy"
    retry_after_seconds = 2

    def __init__(self) -> None:
        super().__init__("the verifier is checking as many files as it can at once; try again in a few seconds")


def _when(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def count_upload(session: Session, settings: Settings, ip: str, now: datetime) -> None:
    """Count one file sent from ``ip`` to be checked, or refuse it (429) when the address
    has had its share of the window. Committed at once: a file that then turns out not to
    be a PDF counts too."""
    limit = Limit(settings.verify_uploads_per_window, timedelta(seconds=settings.verify_window_seconds))
    limits.take_turn(session, limits.key(UPLOAD, ip=ip), now=now)
    wait = limits.wait_for(session, UPLOAD, limit, now, ip=ip)
    if wait:
        raise TooManyRequests(f"too many files checked from this address; try again in {_when(wait)}", wait)
    limits.record(session, UPLOAD, ip=ip, at=now)
    session.commit()


class CheckingSlots:
    """At most ``size`` files checked at once in this process."""

    def __init__(self, size: int) -> None:
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; none free: :class:`VerifierBusy` (503)."""
        if not self._free.acquire(blocking=False):
            raise VerifierBusy()
        try:
            yield
        finally:
            self._free.release()


async def checking_slots(request: Request) -> CheckingSlots:
    """The app's slots, made on first use from its settings. A coroutine, so it runs on the
    event loop's one thread and two first requests cannot make two sets."""
    state = request.app.state
    if not hasattr(state, "checking_slots"):
        settings: Settings = (await get_context(request)).settings
        state.checking_slots = CheckingSlots(settings.verify_max_concurrent)
    slots: CheckingSlots = state.checking_slots
    return slots


Slots = Annotated[CheckingSlots, Depends(checking_slots)]
