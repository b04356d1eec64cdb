"""Issuing one chunk of a batch's rows: every object stored first, then every row in one
transaction.

The single-document path (:func:`issuer.service.issue_document`) commits once per
document and stores its object before that commit, one after the other. A chunk does the
same steps for all its rows at once, in three phases:

1. one short transaction claims each row for this run by recording the id its document
   will have, makes sure each row's citizen record exists (so its storage folder is
   known) and reserves the status-list indexes the seals print;
2. each row is rendered and signed, and its object is handed to a small thread pool as
   soon as it is signed, so the puts overlap the next row's rendering. At B-LT and B-LTA
   the chunk's long-term revisions are added together once its last row is signed (one
   wait for revocation data newer than the newest timestamp serves them all), and the
   files are stored at their level; one whose revision cannot be had yet is stored at
   B-T, its revision left to the job engine as on the single-document path;
3. once every put has succeeded, one transaction binds the holders' numbers (recording a
   mismatch exactly as a single issue does), adds the documents and records every row's
   outcome and the batch's counters.

The write order is the issuing one: no row without its object. A failure before phase 3
commits removes the objects it stored; those the store would not delete then (it is the
outage that failed the chunk) go to a job that deletes them once it is back. The rows stay
pending for the job's next run; a run that finds a row's document (its idempotency key
``batch:<batch id>:<row>``) records it instead of issuing again.

A run that could not clean up after itself (its worker killed with ``kill -9``, or its
commit cut off midway) left its claims on the rows it did not record. The next run's
claims replace them and, in the same transaction, hand the objects named by the old
claims to the deleting job: nothing is left for ``sanad fsck``. Phase 3 first checks that
the rows still carry this run's claims, so a run given up for dead but still going
records nothing and deletes its own objects instead. Should phase 3 meet another run's document for a row (an
integrity error), the chunk falls back to issuing row by row through the single-document
path, which settles such a race.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from issuer import batches_repository as batch_repository
from issuer import events, long_term_tasks, repository
from issuer.batches_models import BatchRow, BatchStatus, RowStatus
from issuer.exceptions import ReservedCitizenId, UnknownDocumentType
from issuer.models import Document
from issuer.schemas import DocumentCreate
from issuer.service import (
    PDF,
    RESERVED_CITIZEN_PREFIX,
    IssuingKit,
    Numbered,
    _mismatch,
    _render_and_sign,
    _request_hash,
    _resolve_validity,
    is_reserved_citizen_id,
    new_document_row,
    storage_key,
    take_numbers,
)
from issuer.sign import SignedDocument
from issuer.templates import TemplateSpec, validate_data
from sanad import metrics
from sanad.errors import SanadError, ServiceUnavailable
from sanad.ids import new_document_id
from sanad.jobs import JobQueue
from sanad.models import Department
from sanad.storage import StorageUnavailable

log = logging.getLogger(__name__)

#: Object puts in flight at once per chunk: enough to hide a store's round trip behind
#: rendering, few enough that a worker's eight jobs (32 puts) stay inside the puts'
#: kept-alive connections (``sanad.object_puts.KeptAlivePuts``, 32); beyond them every put
#: opened and dropped a connection.
PUT_THREADS = 4
#: Rows rendered between two looks at whether the batch was cancelled.
CANCEL_CHECK_ROWS = 10
#: The job that deletes a failed chunk's objects once the store answers again.
DISCARD_OBJECTS = "issuer:discard_objects"

Outcome = dict[str, Any]
"""A row's recorded outcome: the values of its ``batch_rows`` columns."""


class ChunkRaced(Exception):
    """Another run recorded a document of this chunk first: issue row by row instead."""


class Superseded(Exception):
    """A later run has claimed this chunk's rows (this one was given up for dead): it
    records nothing, and the later run issues them."""


@dataclass
class _Prepared:
    """A row rendered and signed, its object on its way to the store."""

    row: int
    citizen_id: str
    mobile: str | None
    document: Document
    put: Future[None]


def row_key(batch_id: str, row: int) -> str:
    """The idempotency key a batch row's document is issued with."""
    return f"batch:{batch_id}:{row}"


def issue_chunk(
    sessions: sessionmaker[Session],
    kit: IssuingKit,
    queue: JobQueue,
    department: Department,
    document_type: str,
    batch_id: str,
    rows: Sequence[BatchRow],
) -> tuple[int, int]:
    """Issue the pending ``rows`` (detached) and record their outcomes; returns (issued,
    failed) as recorded. Raises :class:`Cancelled` or :class:`ChunkRaced` (nothing
    recorded), or the error of an outage, once nothing of the chunk is left half done
    (objects the store would not delete are handed to ``queue``)."""
    outcomes: dict[int, Outcome] = {}
    with sessions() as session:
        found = batch_repository.documents_by_keys(session, department.id, [row_key(batch_id, r.row) for r in rows])
    for row in rows:
        document = found.get(row_key(batch_id, row.row))
        if document is not None:  # issued by an earlier run that died before recording it
            outcomes[row.row] = _issued(document)
    todo = [row for row in rows if row.row not in outcomes]
    prepared: list[_Prepared] = []
    with ThreadPoolExecutor(PUT_THREADS, thread_name_prefix="sanad-put") as pool:
        try:
            if todo:
                _prepare_all(sessions, kit, queue, department, document_type, batch_id, todo, pool, prepared, outcomes)
            for done in prepared:
                done.put.result()  # an outage of the store raises here
            return _commit(sessions, kit, department, batch_id, prepared, outcomes)
        except CommitUncertain:
            # The rows may be recorded: their objects stay, and `sanad fsck --fix` removes
            # any that no row references (a row without its object could not be undone).
            raise
        except BaseException:
            # Nothing of the chunk was committed: its objects go (the issuing write order).
            wait([p.put for p in prepared])
            _discard(sessions, kit, queue, [p.document.storage_key for p in prepared if p.put.exception() is None])
            raise


def _discard(sessions: sessionmaker[Session], kit: IssuingKit, queue: JobQueue, keys: list[str]) -> None:
    """Delete the objects of a chunk that committed nothing; any the store refuses now go
    to the job that deletes them once it answers again."""
    left = [key for key in keys if not _deleted(kit, key)]
    if not left:
        return
    try:
        with sessions.begin() as session:
            queue.defer(session, DISCARD_OBJECTS, {"keys": left})
    except Exception:  # the database is down too: the keys are in the log
        log.warning("could not remove unreferenced objects %s; 'sanad fsck --fix' will", left, exc_info=True)


def _deleted(kit: IssuingKit, key: str) -> bool:
    try:
        kit.store.delete(key)
    except Exception:
        log.info("could not remove %s yet", key, exc_info=True)
        return False
    return True


def discard_objects(sessions: sessionmaker[Session], kit: IssuingKit, keys: list[str]) -> None:
    """The job: delete ``keys`` that no document references (a key that some row does
    reference is kept, whatever queued it). Raises while the store refuses any, so that
    the job engine runs it again."""
    with sessions() as session:
        referenced = repository.referenced_storage_keys(session, keys)
    refused = [key for key in keys if key not in referenced and not _deleted(kit, key)]
    if refused:
        raise StorageUnavailable(f"{len(refused)} objects could not be deleted yet")


def _prepare_all(
    sessions: sessionmaker[Session],
    kit: IssuingKit,
    queue: JobQueue,
    department: Department,
    document_type: str,
    batch_id: str,
    rows: Sequence[BatchRow],
    pool: ThreadPoolExecutor,
    prepared: list[_Prepared],
    outcomes: dict[int, Outcome],
) -> None:
    spec = kit.templates.get(document_type)
    if spec is None:
        raise UnknownDocumentType(document_type, kit.templates)
    signer = kit.signers.get(department.code)
    refs, indexes, numbers, claims = _reserve(sessions, queue, department, document_type, batch_id, rows)
    awaiting: list[_Signed] = []
    for number, row in enumerate(rows):
        if number and number % CANCEL_CHECK_ROWS == 0 and not _running(sessions, batch_id):
            return
        if row.row not in claims:  # recorded by another run since this one started
            continue
        try:
            request = DocumentCreate.model_validate({"type": document_type, **row.request})
            if is_reserved_citizen_id(request.citizen_id):
                raise ReservedCitizenId(RESERVED_CITIZEN_PREFIX)
            data = validate_data(spec, request.data)
            issued_at = datetime.now(UTC).replace(microsecond=0)
            valid_until = _resolve_validity(spec, request.valid_until, issued_at)
            document_id = claims[row.row]
            status_index = indexes[number]
            signing = _render_and_sign(
                kit,
                spec,
                signer,
                department,
                Numbered(document_id, numbers[number]),
                data,
                issued_at,
                valid_until,
                status_index,
                issued_by=request.issued_by,
                defer_long_term=kit.long_term_jobs is not None,
            )
        except Exception as e:
            if is_outage(e):
                raise
            outcomes[row.row] = failure(e, batch_id, row.row)
            continue
        signed = _Signed(
            row.row,
            request,
            Numbered(document_id, numbers[number]),
            status_index,
            data,
            issued_at,
            valid_until,
            signing,
        )
        if signing.long_term_pending:
            awaiting.append(signed)
        else:
            prepared.append(_stage(kit, spec, department, batch_id, refs, signed, pool))
    # The long-term revisions of the chunk together: one wait for fresh revocation data
    # instead of a job per chunk that reads, rewrites and deletes every object again.
    completed = signer.complete_long_term([item.signing for item in awaiting]) if awaiting else []
    for item, signing in zip(awaiting, completed, strict=True):
        item.signing = signing
        prepared.append(_stage(kit, spec, department, batch_id, refs, item, pool))


@dataclass
class _Signed:
    """A row rendered and signed, before its row is built and its object stored."""

    row: int
    request: DocumentCreate
    names: Numbered
    status_index: int
    data: dict[str, object]
    issued_at: datetime
    valid_until: date | None
    signing: SignedDocument


def _stage(
    kit: IssuingKit,
    spec: TemplateSpec,
    department: Department,
    batch_id: str,
    refs: dict[str, str],
    signed: _Signed,
    pool: ThreadPoolExecutor,
) -> _Prepared:
    """The signed row's registry row, and its object handed to the put threads."""
    request = signed.request
    key = storage_key(refs[request.citizen_id], signed.names.document_id)
    document = new_document_row(
        spec,
        request,
        department,
        signed.signing,
        signed.names,
        citizen_ref=refs[request.citizen_id],
        storage_key=key,
        data=signed.data,
        issued_at=signed.issued_at,
        valid_until=signed.valid_until,
        idempotency_key=row_key(batch_id, signed.row),
        # As the single-document path hashes it, so a row it issues after a fallback
        # is a replay of the same request.
        request_hash=_request_hash(request),
        status_index=signed.status_index,
    )
    # The row's digest is the file's: the signed put need not hash the bytes again.
    put = pool.submit(kit.store.put, key, signed.signing.pdf, PDF, sha256=document.sha256)
    return _Prepared(signed.row, request.citizen_id, request.citizen_mobile, document, put)


def is_outage(error: BaseException) -> bool:
    """A dependency is down (the database, the object store, the timestamp authority):
    the chunk stops and runs again later, rather than failing its rows."""
    if isinstance(error, StorageUnavailable | ServiceUnavailable | CommitUncertain):
        return True
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def failure(error: Exception, batch_id: str, row: int) -> Outcome:
    """The outcome of a row that cannot be issued, with a message for the department."""
    if isinstance(error, SanadError):
        return {"status": RowStatus.FAILED, "error": error.message[:2000], "document_id": None}
    log.error("batch %s row %d could not be issued", batch_id, row, exc_info=error)
    return {"status": RowStatus.FAILED, "error": "internal error while issuing this row", "document_id": None}


def _reserve(
    sessions: sessionmaker[Session],
    queue: JobQueue,
    department: Department,
    document_type: str,
    batch_id: str,
    rows: Sequence[BatchRow],
) -> tuple[dict[str, str], list[int], list[str], dict[int, str]]:
    """Committed in one short transaction: this run's claim on every row still pending
    (by row, the id its document will have), every row's citizen record (created without
    a number if new: the holder's number is bound with the document, as a single issue
    binds it), a status-list index and a certificate number per row. An index whose row
    is never issued stays "valid" for no document, and its number a gap, as on the
    single-document path. The objects of the claims this one replaces go to the deleting
    job in the same transaction."""
    now = datetime.now(UTC)
    citizen_ids = sorted({str(row.request["citizen_id"]) for row in rows})
    with sessions.begin() as session:
        # The rows are locked first, in the order the commit phase locks them.
        wanted = {row.row: new_document_id() for row in rows}
        earlier = batch_repository.claim_rows(session, batch_id, wanted)
        claims = {row: wanted[row] for row in earlier}
        refs = batch_repository.citizen_refs(session, department.id, citizen_ids)
        new = [citizen_id for citizen_id in citizen_ids if citizen_id not in refs]
        bound = repository.bind_citizens(session, department.id, [(citizen_id, None) for citizen_id in new])
        refs.update({citizen_id: binding.ref for citizen_id, binding in zip(new, bound, strict=True)})
        indexes = repository.allocate_status_indexes(session, now, len(rows))
        numbers = take_numbers(session, department, document_type, now, len(rows))
        citizen_of = {row.row: str(row.request["citizen_id"]) for row in rows}
        abandoned = [storage_key(refs[citizen_of[row]], old) for row, old in earlier.items() if old is not None]
        if abandoned:
            queue.defer(session, DISCARD_OBJECTS, {"keys": abandoned})
    return refs, indexes, numbers, claims


def _running(sessions: sessionmaker[Session], batch_id: str) -> bool:
    with sessions() as session:
        return batch_repository.status(session, batch_id) == BatchStatus.RUNNING


def _issued(document: Document) -> Outcome:
    return {"status": RowStatus.ISSUED, "document_id": document.id, "sha256": document.sha256}


def _commit(
    sessions: sessionmaker[Session],
    kit: IssuingKit,
    department: Department,
    batch_id: str,
    prepared: Sequence[_Prepared],
    outcomes: dict[int, Outcome],
) -> tuple[int, int]:
    """The chunk's one transaction: documents, holder bindings, row outcomes, counters."""
    with sessions() as session:
        if batch_repository.status(session, batch_id) != BatchStatus.RUNNING:
            raise Cancelled
        if prepared and not batch_repository.claims_hold(
            session, batch_id, {item.row: item.document.id for item in prepared}
        ):
            raise Superseded
        try:
            # Every number is bound before any document is added, in row order, so a
            # citizen named twice sees the earlier row's number as the previous one.
            bindings = repository.bind_citizens(
                session, department.id, [(item.citizen_id, item.mobile) for item in prepared]
            )
            mismatches = []
            for item, binding in zip(prepared, bindings, strict=True):
                previous = binding.previous_mobile
                if previous is not None and item.mobile is not None and previous != item.mobile:
                    mismatches.append(_mismatch(item.document, previous, item.mobile, item.document.issued_at))
            session.add_all([item.document for item in prepared])
            session.flush()  # the mismatch rows refer to the documents
            session.add_all(mismatches)
            for item in prepared:
                events.publish(session, item.document, events.ISSUED)
            # The chunk's long-term revisions: one job for them all, committed with the rows.
            pending = [item.document.id for item in prepared if item.document.long_term_pending]
            if pending and kit.long_term_jobs is not None:
                long_term_tasks.defer_augmentation(session, kit.long_term_jobs, pending)
            recorded = {**outcomes, **{item.row: _issued(item.document) for item in prepared}}
            issued, failed = batch_repository.record_outcomes(session, batch_id, recorded, datetime.now(UTC))
        except IntegrityError as e:
            # Another run's document holds one of these rows' keys (or objects' names).
            raise ChunkRaced from e
        try:
            session.commit()
        except Exception as e:
            # The connection broke during COMMIT: whether it took is unknown until the
            # chunk runs again and looks for its rows' documents.
            raise CommitUncertain from e
    for item in prepared:  # counted as the single-document path counts its documents
        metrics.DOCUMENTS_ISSUED.labels(str(item.document.signature_level)).inc()
    return issued, failed


class CommitUncertain(Exception):
    """The chunk's commit failed on the way: its rows may or may not be recorded. The job
    runs again (an outage), and finds whichever documents were recorded."""


class Cancelled(Exception):
    """The batch was cancelled while the chunk was being signed: nothing of it is kept."""
