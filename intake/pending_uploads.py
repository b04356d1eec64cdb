"""Files kept across a refused form, so the citizen does not choose them again.

A browser never keeps a chosen file after a page comes back with errors. When a form is
refused, each file that passed its checks is stored as a pending object (object first,
row second, like every write of ours) and the page carries a token for it in a hidden
field; the next post of the form brings the token instead of the file. A token is good
only for the person who posted it, the same service and the same kind of document, for
:data:`KEEP_FOR`; only its hash is stored. A submission that uses a kept file copies it
into an attachment and deletes the pending row in the same commit; the pending object
then belongs to nobody and goes (at once, or by ``sanad fsck --fix``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.attachments import CheckedFile, UploadedFile, size_text
from intake.models import PendingUpload
from sanad.ids import new_document_id, sha256_hex
from sanad.storage import ObjectMissing, ObjectStore, StorageUnavailable

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(hours=24)
"""How long a refused form's files are kept for the next attempt."""
MARGIN = timedelta(hours=1)
"""How long after expiry a pending object still counts as referenced, so ``sanad fsck``
never removes one that a submission took just before it expired."""
PREFIX = "applications/pending/"


@dataclass(frozen=True)
class KeptFile:
    """What a page shows of a kept file, and the token it posts back."""

    token: str
    kind: str
    filename: str
    size: int

    @property
    def size_label(self) -> str:
        return size_text(self.size)


def citizen_owner(mobile: str) -> str:
    return f"citizen:{mobile}"


def staff_owner(staff_id: int) -> str:
    return f"staff:{staff_id}"


def keep(
    session: Session,
    store: ObjectStore,
    owner: str,
    service_code: str,
    files: Sequence[CheckedFile],
    now: datetime,
) -> tuple[list[KeptFile], bool]:
    """Keep ``files`` for ``owner``'s next attempt; a file that came from a token keeps
    it. Returns the kept files and whether any could not be kept (object storage down:
    the citizen then chooses those again, but keeps everything typed)."""
    session.execute(delete(PendingUpload).where(PendingUpload.expires_at < now - MARGIN))
    kept: list[KeptFile] = []
    lost = False
    for checked in files:
        file = checked.file
        filename = file.filename[:200] or f"{file.kind}{checked.extension}"
        if file.kept_token is not None:
            kept.append(KeptFile(file.kept_token, file.kind, filename, len(file.data)))
            continue
        token = secrets.token_urlsafe(24)
        key = f"{PREFIX}{new_document_id()}{checked.extension}"
        try:
            store.put(key, file.data, checked.content_type)
        except StorageUnavailable:
            log.warning("could not keep a refused form's file (object storage unavailable)")
            lost = True
            continue
        session.add(
            PendingUpload(
                token_hash=sha256_hex(token),
                owner=owner,
                service_code=service_code,
                kind=file.kind,
                filename=filename,
                content_type=checked.content_type,
                size=len(file.data),
                storage_key=key,
                created_at=now,
                expires_at=now + KEEP_FOR,
            )
        )
        kept.append(KeptFile(token, file.kind, filename, len(file.data)))
    session.flush()
    return kept, lost


def take(
    session: Session,
    store: ObjectStore,
    owner: str,
    service_code: str,
    tokens: Mapping[str, str],
    now: datetime,
) -> list[UploadedFile]:
    """The kept files ``tokens`` (kind → token) name, with their bytes: only ``owner``'s,
    for this service and kind, not expired. Any other token is ignored, as if no file had
    been kept (the form then asks for the document)."""
    hashes = {sha256_hex(token): (kind, token) for kind, token in tokens.items() if token and len(token) <= 64}
    if not hashes:
        return []
    rows = session.scalars(select(PendingUpload).where(PendingUpload.token_hash.in_(hashes)))
    files = []
    for row in rows:
        kind, token = hashes[row.token_hash]
        if row.owner != owner or row.service_code != service_code or row.kind != kind or row.expires_at <= now:
            continue
        try:
            data = store.get(row.storage_key)
        except ObjectMissing:
            continue
        files.append(UploadedFile(kind, row.filename, row.content_type, data, kept_token=token))
    return files


def forget(session: Session, files: Sequence[UploadedFile]) -> list[str]:
    """End the keeping of the kept files among ``files`` (they became attachments) in the
    caller's transaction; returns their objects' keys, to remove once it commits."""
    hashes = [sha256_hex(f.kept_token) for f in files if f.kept_token is not None]
    if not hashes:
        return []
    keys = list(session.scalars(select(PendingUpload.storage_key).where(PendingUpload.token_hash.in_(hashes))))
    session.execute(delete(PendingUpload).where(PendingUpload.token_hash.in_(hashes)))
    return keys


def keys_referenced(session: Session, keys: list[str], now: datetime) -> set[str]:
    """Which of ``keys`` belong to a pending upload that may still be used."""
    if not keys:
        return set()
    query = select(PendingUpload.storage_key).where(
        PendingUpload.storage_key.in_(keys), PendingUpload.expires_at > now - MARGIN
    )
    return set(session.scalars(query))
