"""A holder's issued documents: list, read, and hand out their exact bytes."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from issuer import service as issuer_service
from issuer.models import Document
from issuer.service import HolderFilter
from sanad.errors import FieldError, InvalidInput
from sanad.i18n import LocalizedText
from sanad.models import Department
from sanad.storage import ObjectStore

DOWNLOAD_LINK_LIFETIME = timedelta(seconds=60)
"""Presigned links are for the redirect that follows at once, not for keeping."""


@dataclass(frozen=True)
class HeldDocument:
    document: Document
    department: Department
    status: str
    """valid, expired, revoked or superseded."""

    @property
    def department_name(self) -> LocalizedText:
        return issuer_service.department_name(self.department)


@dataclass(frozen=True)
class Content:
    """Either a URL the client should be redirected to, or the bytes themselves."""

    redirect_url: str | None
    data: bytes | None
    filename: str
    sha256: str


def _held(pair: tuple[Document, Department]) -> HeldDocument:
    return HeldDocument(document=pair[0], department=pair[1], status=issuer_service.public_status(pair[0]))


def encode_cursor(document: Document) -> str:
    raw = f"{document.issued_at.isoformat()}|{document.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, document_id = raw.split("|", 1)
        return datetime.fromisoformat(moment), document_id
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidInput([FieldError("cursor", "is not a cursor this API returned")]) from e


def validate_filter(holder_filter: HolderFilter) -> None:
    if holder_filter.status is not None and holder_filter.status not in issuer_service.HOLDER_STATUSES:
        choices = ", ".join(issuer_service.HOLDER_STATUSES)
        raise InvalidInput([FieldError("status", f"must be one of {choices}")])


def list_documents(
    session: Session,
    holder_mobile: str,
    holder_filter: HolderFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[HeldDocument], str | None]:
    """One page of the documents issued to ``holder_mobile`` (a number the caller proved),
    newest first, and the cursor of the next page (``None`` on the last)."""
    validate_filter(holder_filter)
    after = decode_cursor(cursor) if cursor else None
    rows = issuer_service.holder_documents(session, holder_mobile, holder_filter, after=after, limit=limit + 1)
    page = [_held(row) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1].document) if len(rows) > limit else None
    return page, next_cursor


def get_document(session: Session, holder_mobile: str, document_id: str) -> HeldDocument:
    """A document issued to ``holder_mobile``; any other answers 404 like a missing one."""
    return _held(issuer_service.holder_document(session, holder_mobile, document_id))


def content_of(store: ObjectStore, document: Document) -> Content:
    """A presigned link when the store can give one (MinIO), else the bytes."""
    filename = f"{document.type}-{document.id}.pdf"
    url = store.download_url(document.storage_key, filename, DOWNLOAD_LINK_LIFETIME)
    data = None if url else store.get(document.storage_key)
    return Content(redirect_url=url, data=data, filename=filename, sha256=document.sha256)
