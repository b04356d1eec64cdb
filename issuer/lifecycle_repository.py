"""Every SQL query of the document lifecycle: conditional updates, so that of two changes
to one document at once exactly one applies (on PostgreSQL the second update waits for the
first to commit and then finds its condition false; on SQLite writers take turns)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.models import Document, DocumentStatus


def _changed(session: Session, document_id: str, states: Iterable[str], **values: object) -> bool:
    result = session.execute(
        update(Document)
        .where(Document.id == document_id, Document.status.in_(tuple(states)))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def mark_superseded(session: Session, document_id: str, successor_id: str) -> bool:
    """Issued or suspended → superseded by ``successor_id``; False when it was neither."""
    return _changed(
        session,
        document_id,
        (DocumentStatus.ISSUED, DocumentStatus.SUSPENDED),
        status=DocumentStatus.SUPERSEDED,
        superseded_by_id=successor_id,
        suspension_reason=None,
        suspension_note=None,
    )


def mark_suspended(session: Session, document_id: str, reason: str, note: str | None) -> bool:
    """Issued → suspended; False when it was not plainly issued."""
    return _changed(
        session,
        document_id,
        (DocumentStatus.ISSUED,),
        status=DocumentStatus.SUSPENDED,
        suspension_reason=reason,
        suspension_note=note,
    )


def mark_reinstated(session: Session, document_id: str) -> bool:
    """Suspended → issued; False when it was not suspended."""
    return _changed(
        session,
        document_id,
        (DocumentStatus.SUSPENDED,),
        status=DocumentStatus.ISSUED,
        suspension_reason=None,
        suspension_note=None,
    )


def versions_of(session: Session, document: Document) -> list[Document]:
    """Every version linked to ``document``, oldest first: the chain is walked one link a
    query (a chain is a handful of corrections and renewals long)."""
    chain = [document]
    seen = {document.id}
    for forward in (False, True):
        current = document
        while True:
            link = current.superseded_by_id if forward else current.supersedes_id
            if link is None or link in seen:
                break
            found = session.scalars(select(Document).where(Document.id == link)).first()
            if found is None:
                break
            seen.add(found.id)
            if forward:
                chain.append(found)
            else:
                chain.insert(0, found)
            current = found
    return chain
