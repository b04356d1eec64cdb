"""The lifecycle API for departments: supersede, renew, suspend and reinstate documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from sqlalchemy.orm import Session

from issuer import lifecycle, service
from issuer.dependencies import Context, IssuerContext
from issuer.lifecycle import Successor
from issuer.lifecycle_schemas import ReinstateRequest, RenewRequest, SupersedeRequest, SuspendRequest
from issuer.models import Document
from issuer.responses import DOCUMENT_ERRORS
from issuer.schemas import DocumentRead
from sanad.dependencies import CurrentDepartment, DbSession
from sanad.models import Department

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


@router.post(
    "/{document_id}/supersede",
    status_code=201,
    response_model=DocumentRead,
    responses={
        **DOCUMENT_ERRORS,
        409: {"description": "The document is revoked or already superseded."},
        422: {"description": "Invalid field value, or an Idempotency-Key used for another request."},
    },
)
def supersede_document(
    document_id: str,
    body: SupersedeRequest,
    response: Response,
    context: Context,
    session: DbSession,
    department: CurrentDepartment,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DocumentRead:
    """Correct a document: issue its next version (same type and holder, `version` + 1)
    with the corrected `data`, and mark this one `superseded`. Its QR page then says so and
    links to the new version; the status list marks it. `Idempotency-Key` works as when issuing."""
    successor = Successor(action="supersede", data=body.data, valid_until=body.valid_until, reason=body.reason)
    document, replayed = lifecycle.supersede(
        session, context.kit, department, document_id, successor, idempotency_key=idempotency_key
    )
    return _answer(document, replayed, response, context, session, department)


@router.post(
    "/{document_id}/renew",
    status_code=201,
    response_model=DocumentRead,
    responses={
        **DOCUMENT_ERRORS,
        409: {"description": "The document is revoked or already superseded."},
        422: {"description": "The type is not renewable, or the new validity is not later than the current one."},
    },
)
def renew_document(
    document_id: str,
    body: RenewRequest,
    response: Response,
    context: Context,
    session: DbSession,
    department: CurrentDepartment,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> DocumentRead:
    """Renew a licence: issue its next version with the same data and a new validity, and
    mark this one `superseded`. Only types whose template is renewable (trade licences)."""
    document, replayed = lifecycle.renew(
        session, context.kit, department, document_id, body.valid_until, idempotency_key=idempotency_key
    )
    return _answer(document, replayed, response, context, session, department)


@router.post(
    "/{document_id}/suspend",
    response_model=DocumentRead,
    responses={
        **DOCUMENT_ERRORS,
        409: {"description": "Not a plainly issued document (revoked, superseded, suspended)."},
    },
)
def suspend_document(
    document_id: str, body: SuspendRequest, context: Context, session: DbSession, department: CurrentDepartment
) -> DocumentRead:
    """Suspend a document: verifiers report it `suspended` and not in force until it is
    reinstated. `reason` is one of under_investigation, court_order, data_error_reported,
    other (with a `note`)."""
    document = lifecycle.suspend(session, department, document_id, body.reason, body.note)
    context.trust_publisher.invalidate()
    return service.to_read(document, department, context.kit)


@router.post(
    "/{document_id}/reinstate",
    response_model=DocumentRead,
    responses={**DOCUMENT_ERRORS, 409: {"description": "The document is not suspended."}},
)
def reinstate_document(
    document_id: str, body: ReinstateRequest, context: Context, session: DbSession, department: CurrentDepartment
) -> DocumentRead:
    """End a suspension: the document is in force again."""
    document = lifecycle.reinstate(session, department, document_id, body.note)
    context.trust_publisher.invalidate()
    return service.to_read(document, department, context.kit)


def _answer(
    document: Document,
    replayed: bool,
    response: Response,
    context: IssuerContext,
    session: Session,
    department: Department,
) -> DocumentRead:
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    # The old version's status changed: the next status-list snapshot must carry it.
    context.trust_publisher.invalidate()
    return service.to_read(document, department, context.kit, warnings=service.issue_warnings(session, document))
