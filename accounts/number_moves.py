"""Who else hears that a citizen's locker moved to another number, in the same transaction.

Accounts knows no package above it; the composition root subscribes the listeners of the
packages that keep records by number (``app.context``: intake's applications). A listener
runs inside the move's transaction, so what it changes moves with the account or not at all."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

NumberMoveListener = Callable[[Session, str, str], int]
"""``listener(session, old_mobile, new_mobile)`` → how many records it moved."""

_listeners: dict[str, NumberMoveListener] = {}


def subscribe(records: str, listener: NumberMoveListener) -> None:
    """Add the listener that moves ``records`` (``applications``); once per name."""
    _listeners[records] = listener


def publish(session: Session, old_mobile: str, new_mobile: str) -> dict[str, int]:
    """Move every subscriber's records; how many of each moved."""
    return {records: listener(session, old_mobile, new_mobile) for records, listener in tuple(_listeners.items())}
