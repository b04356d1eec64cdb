"""Who else hears that a document was issued or revoked, in the same transaction.

The issuer knows no package above it; the composition root subscribes their listeners
(``app.context``). A listener runs just before the issuing or revoking commit, on the
same session, so what it writes (an outbox row) is committed with the change or not at all."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from issuer.models import Document

ISSUED = "issued"
REVOKED = "revoked"
SUPERSEDED = "superseded"
SUSPENDED = "suspended"
REINSTATED = "reinstated"

DocumentListener = Callable[[Session, Document, str], None]
"""``listener(session, document, event)``; an exception fails the change it hears of."""

_listeners: list[DocumentListener] = []


def subscribe(listener: DocumentListener) -> None:
    """Add a listener (once, however often it is subscribed)."""
    if listener not in _listeners:
        _listeners.append(listener)


def publish(session: Session, document: Document, event: str) -> None:
    for listener in tuple(_listeners):
        listener(session, document, event)
