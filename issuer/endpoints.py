"""The issuing API for departments: issue, read, download and revoke documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from issuer import service
from issuer.dependencies import Context
from issuer.responses import DOCUMENT_ERRORS
from issuer.schemas import DocumentCreate, DocumentList, DocumentRead, HolderMismatchPage, RevokeRequest
from sanad.dependencies import CurrentDepartment, DbSession

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


@router.post(
    "",
    status_code=201,
    response_model=DocumentRead,
    responses={
        **DOCUMENT_ERRORS,
        422: {"description": "Unknown type, unknown field, invalid field value, or a reserved citizen id."},
    },
)
def issue_document(
    body: DocumentCreate,
    response: Response,
    context: Context,
    session: DbSession,
    department: CurrentDepartment,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DocumentRead:
    """Issue a signed certificate to a citizen.

    The document is rendered from the type's template, given a QR code that opens its
    verification page, signed (PAdES, certified: no changes allowed) with the
    department's key and stored in the citizen's space.

    The document reaches the locker of `citizen_mobile` and no other: the citizen sees
    it once they prove that number with a one-time code. Without a number it reaches no
    locker (warning `no_holder_mobile`). A number other than the one your previous
    request named for the same `citizen_id` is issued as asked, reported in `warnings`
    (`holder_mobile_changed`) and recorded (`GET /api/v1/documents/holder-mismatches`).

    Send an `Idempotency-Key` header to make retries safe: the same key with the same
    body returns the same document (with `Idempotent-Replayed: true`); the same key with
    a different body is refused with 422.
    """
    document, replayed = service.issue_document(session, context.kit, department, body, idempotency_key=idempotency_key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return service.to_read(document, department, context.kit, warnings=service.issue_warnings(session, document))


@router.get("", response_model=DocumentList, responses={401: DOCUMENT_ERRORS[401]})
def find_documents(
    context: Context,
    session: DbSession,
    department: CurrentDepartment,
    number: Annotated[str, Query(min_length=1, max_length=60, description="A certificate number, as printed.")],
) -> DocumentList:
    """Your department's document printed with certificate number `number` (e.g.
    `PB-REV-INC-C-2026-000123`; case and spaces do not matter): one item, or none. Another
    department's number finds nothing."""
    document = service.find_by_number(session, department.id, number)
    if document is None:
        return DocumentList(items=[])
    return DocumentList(items=[service.to_read(document, department, context.kit)])


@router.get("/holder-mismatches", response_model=HolderMismatchPage, responses={401: DOCUMENT_ERRORS[401]})
def list_holder_mismatches(
    session: DbSession,
    department: CurrentDepartment,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HolderMismatchPage:
    """Your department's issuing requests that named another mobile number for a citizen id
    than your previous request for it, newest first: for an auditor to confirm each number
    with the citizen. Every such document went to the number its own request named."""
    items, next_cursor = service.holder_mismatches(session, department, cursor=cursor, limit=limit)
    return HolderMismatchPage(items=items, next_cursor=next_cursor)


@router.get("/{document_id}", response_model=DocumentRead, responses=DOCUMENT_ERRORS)
def get_document(document_id: str, context: Context, session: DbSession, department: CurrentDepartment) -> DocumentRead:
    """A document's registry record (issuing department only), with its issuing warnings."""
    document = service.get_for_department(session, department, document_id)
    return service.to_read(document, department, context.kit, warnings=service.issue_warnings(session, document))


@router.get(
    "/{document_id}/content",
    response_class=Response,
    responses={**DOCUMENT_ERRORS, 200: {"content": {"application/pdf": {}}, "description": "The signed PDF."}},
)
def get_document_content(
    document_id: str, context: Context, session: DbSession, department: CurrentDepartment
) -> Response:
    """The signed PDF, byte for byte as issued (issuing department only)."""
    pdf = service.read_content(session, context.store, department, document_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document_id}.pdf"'},
    )


@router.post(
    "/{document_id}/revoke",
    response_model=DocumentRead,
    responses={**DOCUMENT_ERRORS, 409: {"description": "Already revoked."}},
)
def revoke_document(
    document_id: str, body: RevokeRequest, context: Context, session: DbSession, department: CurrentDepartment
) -> DocumentRead:
    """Revoke a document. Verifiers then report it as revoked, with the reason; the next
    status-list snapshot this process serves carries it (other workers' within a minute)."""
    document = service.revoke(session, department, document_id, body.reason)
    context.trust_publisher.invalidate()
    return service.to_read(document, department, context.kit, warnings=service.issue_warnings(session, document))
