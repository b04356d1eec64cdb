"""Files citizens put in their own locker: PDF, JPEG or PNG, kept but never vouched for.

Same write order as issuing: the object first, then the row; the object is removed if
the row cannot be committed, and ``sanad fsck --fix`` removes any a crash leaves behind.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from locker import repository
from locker.holder import Holder
from locker.models import Upload
from sanad.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from sanad.ids import new_document_id, sha256_hex
from sanad.reconcile import find_unreferenced
from sanad.storage import ObjectStore
from web.file_types import sniff

log = logging.getLogger(__name__)

ACCEPTED = "PDF, JPEG or PNG"
UPLOAD_PREFIX = "lockers/"


def _clean_filename(filename: str | None, extension: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')[:200]
    return name or f"upload{extension}"


def add_upload(
    session: Session,
    store: ObjectStore,
    holder: Holder,
    *,
    data: bytes,
    filename: str | None,
    declared_type: str | None,
    title: str | None,
    max_bytes: int,
    now: datetime,
) -> Upload:
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is larger than the {max_bytes // 2**20} MB limit")
    sniffed = sniff(data)
    if sniffed is None:
        raise UnsupportedMediaType(f"only {ACCEPTED} files can be uploaded")
    content_type, extension = sniffed
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", content_type):
        raise UnsupportedMediaType(f"the file is declared as {declared} but its content is {content_type}")
    clean_name = _clean_filename(filename, extension)
    clean_title = (title or "").strip()[:200] or clean_name
    if not clean_title:
        raise InvalidInput([FieldError("title", "must not be empty")])

    upload_id = new_document_id()
    upload = Upload(
        id=upload_id,
        account_id=holder.account_id,
        title=clean_title,
        filename=clean_name,
        content_type=content_type,
        size=len(data),
        sha256=sha256_hex(data),
        storage_key=f"{UPLOAD_PREFIX}{holder.storage_ref}/uploads/{upload_id}{extension}",
        uploaded_at=now,
    )
    store.put(upload.storage_key, data, content_type)
    try:
        session.add(upload)
        # The crash-safe step: the row becomes durable only once its object is stored,
        # and the object goes if the row cannot.
        session.commit()
    except BaseException:
        session.rollback()
        _discard(store, upload.storage_key)
        raise
    return upload


def _discard(store: ObjectStore, key: str) -> None:
    try:
        store.delete(key)
    except Exception:
        log.warning("could not remove unreferenced object %s; 'sanad fsck --fix' will", key, exc_info=True)


def list_uploads(session: Session, holder: Holder, limit: int = 200) -> list[Upload]:
    return repository.uploads_of(session, holder.account_id, limit)


def get_upload(session: Session, holder: Holder, upload_id: str) -> Upload:
    upload = repository.upload_of(session, holder.account_id, upload_id) if len(upload_id) <= 32 else None
    if upload is None:
        raise NotFound("no such upload in your locker")
    return upload


def read_upload(session: Session, store: ObjectStore, holder: Holder, upload_id: str) -> tuple[Upload, bytes]:
    upload = get_upload(session, holder, upload_id)
    return upload, store.get(upload.storage_key)


def delete_upload(session: Session, store: ObjectStore, holder: Holder, upload_id: str) -> None:
    """Row first, then the object: a failure leaves an unreferenced object, never a dangling row."""
    upload = get_upload(session, holder, upload_id)
    key = upload.storage_key
    session.delete(upload)
    session.commit()  # the crash-safe step: the row is gone for good before its object goes
    _discard(store, key)


def find_orphans(session: Session, store: ObjectStore, *, now: datetime | None = None) -> list[str]:
    """Uploaded objects no upload row references (older than the grace period)."""
    return find_unreferenced(
        store, UPLOAD_PREFIX, lambda keys: repository.referenced_upload_keys(session, keys), now=now
    )
