"""A holder's issued documents: list, read, and hand out their exact bytes."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, Engine
from sqlalchemy.orm import Session

from accounts import citizens
from issuer import service as issuer_service
from issuer.models import Document
from issuer.service import HolderDocument, HolderFilter, NamedDepartment
from locker.holder import SESSION_ENDED
from sanad.clock import today_in_india
from sanad.db import PreparedRead
from sanad.errors import FieldError, InvalidInput, Unauthorized
from sanad.i18n import LocalizedText
from sanad.models import Department
from sanad.storage import ObjectStore

MAX_DOCUMENT_ID = 32
"""Longer is no document id (the column's width): looked up as none."""
DOWNLOAD_LINK_LIFETIME = timedelta(seconds=60)
"""Presigned links are for the redirect that follows at once, not for keeping."""


class ShownDocument(Protocol):
    """What the locker reads of a document: a registry row, or its listed columns."""

    @property
    def id(self) -> str: ...
    @property
    def number(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def valid_until(self) -> date | None: ...
    @property
    def holder_name(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def storage_key(self) -> str: ...
    @property
    def revocation_reason(self) -> str | None: ...


class ShownDepartment(NamedDepartment, Protocol):
    @property
    def code(self) -> str: ...


@dataclass(frozen=True)
class HeldDocument:
    document: ShownDocument
    department: ShownDepartment
    status: str
    """valid, expired, revoked or superseded."""

    @property
    def department_name(self) -> LocalizedText:
        return issuer_service.department_name(self.department)


@dataclass(frozen=True)
class HeldRecord(HeldDocument):
    """A held document with its registry rows, for what needs more than the locker shows."""

    document: Document
    department: Department


@dataclass(frozen=True)
class Content:
    """Either a URL the client should be redirected to, or the bytes themselves."""

    redirect_url: str | None
    data: bytes | None
    filename: str
    sha256: str


def _held(pair: tuple[Document, Department]) -> HeldRecord:
    return HeldRecord(document=pair[0], department=pair[1], status=issuer_service.public_status(pair[0]))


def _listed(document: HolderDocument, today: date) -> HeldDocument:
    return HeldDocument(document=document, department=document.department, status=document.public_status(today))


def encode_cursor(document: ShownDocument) -> str:
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
    return _page(session, holder_mobile, {}, holder_filter, cursor, limit)


def signed_in_documents(
    engine: Engine,
    token: str,
    now: datetime,
    holder_filter: HolderFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[HeldDocument], str | None]:
    """As :func:`list_documents` for the citizen whose session ``token`` opens, the session
    checked in the same query, read on the driver outside any transaction:
    :class:`Unauthorized` exactly when :func:`accounts.citizens.account_for_token` finds
    nobody, checked before the filter."""
    try:
        parameters = citizens.signed_in_parameters(token, now)
        page = _page(engine, citizens.SIGNED_IN_MOBILE, parameters, holder_filter, cursor, limit)
    except InvalidInput:
        _refuse_if_signed_out(engine, token, now)
        raise
    if not page[0]:  # nothing found: no documents, or nobody signed in
        _refuse_if_signed_out(engine, token, now)
    return page


@functools.cache
def _signed_in_read() -> PreparedRead:
    return PreparedRead(citizens.signed_in_query())


def _refuse_if_signed_out(engine: Engine, token: str, now: datetime) -> None:
    if not _signed_in_read().rows(engine, citizens.signed_in_parameters(token, now)):
        raise Unauthorized(SESSION_ENDED)


def _page(
    source: Session | Engine,
    holder_mobile: str | ColumnElement[str],
    parameters: dict[str, object],
    holder_filter: HolderFilter,
    cursor: str | None,
    limit: int,
) -> tuple[list[HeldDocument], str | None]:
    validate_filter(holder_filter)
    after = decode_cursor(cursor) if cursor else None
    rows = issuer_service.holder_page(
        source, holder_mobile, holder_filter, after=after, limit=limit + 1, parameters=parameters
    )
    today = today_in_india()
    page = [_listed(row, today) for row in rows[:limit]]
    next_cursor = encode_cursor(page[-1].document) if len(rows) > limit else None
    return page, next_cursor


def get_document(session: Session, holder_mobile: str, document_id: str) -> HeldRecord:
    """A document issued to ``holder_mobile``; any other answers 404 like a missing one."""
    return _held(issuer_service.holder_document(session, holder_mobile, document_id))


@functools.cache
def _signed_in_document_read() -> PreparedRead:
    # The most-read route of the locker (every download): run on the driver directly.
    return PreparedRead(issuer_service.holder_with_document_query(citizens.signed_in_query(), "account_mobile"))


def signed_in_document(engine: Engine, token: str, now: datetime, document_id: str) -> HeldDocument:
    """The document ``document_id`` of the citizen whose session ``token`` opens, the
    session checked and the document found in one query outside any transaction:
    :class:`Unauthorized` exactly when :func:`accounts.citizens.account_for_token` finds
    nobody, then not found exactly when :func:`get_document` is."""
    parameters = citizens.signed_in_parameters(token, now)
    parameters["document_id"] = document_id if len(document_id) <= MAX_DOCUMENT_ID else ""
    rows = _signed_in_document_read().rows(engine, parameters)
    if not rows:
        raise Unauthorized(SESSION_ENDED)
    return _listed(issuer_service.held_document_of(rows[0]), today_in_india())


def content_of(store: ObjectStore, document: ShownDocument) -> Content:
    """A presigned link when the store can give one (MinIO), else the bytes."""
    filename = f"{document.type}-{document.id}.pdf"
    url = store.download_url(document.storage_key, filename, DOWNLOAD_LINK_LIFETIME)
    data = None if url else store.get(document.storage_key)
    return Content(redirect_url=url, data=data, filename=filename, sha256=document.sha256)
