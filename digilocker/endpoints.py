"""The Issuer API DigiLocker calls: ``POST /digilocker/v1/pull-uri`` and
``POST /digilocker/v1/pull-doc`` (XML in, XML out); and API Setu's verification form,
``POST /apisetu/v1/{doctype}/certificate`` (JSON in; PDF, XML or JSON out)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from digilocker import apisetu, pull
from digilocker.authentication import HMAC_HEADER, signer_of
from digilocker.configuration import RegistrationCache, registrations
from digilocker.dependencies import Context
from digilocker.exceptions import ApiSetuError, InvalidSignature
from digilocker.messages import (
    PULL_DOC_REQUEST,
    PULL_URI_REQUEST,
    MalformedRequest,
    PullAnswer,
    Status,
    build_response,
    parse_request,
)
from digilocker.pushing import list_pushes
from digilocker.schemas import PushRead
from sanad.dependencies import CurrentDepartment, DbSession
from sanad.errors import PayloadTooLarge, ServiceUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/digilocker/v1", tags=["digilocker"])

MAX_PULL_BODY_BYTES = 256 * 1024
"""A pull request is a few hundred bytes; with an Aadhaar photograph some tens of KB."""
XML = "application/xml"
REASON_HEADER = "X-Sanad-Reason"
_registrations = RegistrationCache()

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {XML: {}}, "description": "A PullURIResponse / PullDocResponse: Status 1, 0 or 9."},
    400: {"content": {XML: {}}, "description": "Not a pull request (Status 0, with the reason in X-Sanad-Reason)."},
    401: {"description": "x-digilocker-hmac missing or wrong; nothing about the body is revealed."},
    413: {"description": "The body is over the limit."},
}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PULL_BODY_BYTES:
        raise PayloadTooLarge(f"a pull request may be at most {MAX_PULL_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_PULL_BODY_BYTES:
            raise PayloadTooLarge(f"a pull request may be at most {MAX_PULL_BODY_BYTES} bytes")
    return bytes(body)


def _xml(kind: str, ts: str, txn: str, answer: PullAnswer, status_code: int = 200) -> Response:
    headers = {}
    if answer.reason:
        headers[REASON_HEADER] = answer.reason.encode("ascii", "replace").decode("ascii")
    return Response(build_response(kind, ts, txn, answer), status_code=status_code, media_type=XML, headers=headers)


async def _pull(request: Request, session: DbSession, context: Context, expected_kind: str) -> Response:
    body = await _read_body(request)
    # The database and the object store are reached synchronously: off the event loop.
    return await run_in_threadpool(answer_pull, body, request.headers.get(HMAC_HEADER), session, context, expected_kind)


def answer_pull(
    body: bytes, signature: str | None, session: DbSession, context: Context, expected_kind: str
) -> Response:
    """A pull request's answer, from its body and signature header (the benchmark calls it too)."""
    # Authentication first, on the raw bytes: nothing of an unsigned body is parsed.
    secret_key = context.settings.secret_key
    registration = signer_of(signature, body, _registrations.get(session, secret_key))
    if registration is None and signature:
        registration = signer_of(signature, body, _registrations.get(session, secret_key, refresh=True))
    if registration is None:
        raise InvalidSignature(f"the {HMAC_HEADER} header is missing or does not match the body")
    try:
        message = parse_request(body)
        if message.kind != expected_kind:
            raise MalformedRequest(f"this endpoint takes a {expected_kind}")
    except MalformedRequest as e:
        log.info("digilocker %s: refused a malformed request: %s", registration.issuer_id, e)
        return _xml(expected_kind, "", "", PullAnswer(Status.NOT_FOUND, reason=str(e)), status_code=400)
    now = datetime.now(UTC)
    answer = pull.check_envelope(session, registration, message, now)
    if answer is None:
        if message.kind == PULL_URI_REQUEST:
            answer = pull.answer_pull_uri(session, context.kit, context.intake, registration, message, now)
        else:
            answer = pull.answer_pull_doc(session, context.kit, registration, message)
    log.info(
        "digilocker %s %s txn=%s: Status %s%s",
        registration.issuer_id,
        message.kind,
        message.txn[:100],
        answer.status.value,
        f" ({answer.reason})" if answer.reason else "",
    )
    return _xml(message.kind, message.ts, message.txn, answer)


@router.post("/pull-uri", responses=_RESPONSES, response_class=Response)
async def pull_uri(request: Request, session: DbSession, context: Context) -> Response:
    """DigiLocker's Pull URI request: a citizen searches for their certificate by the
    search fields configured on the partner portal. Answers its URI, the signed PDF and
    its data when the holder matches (Status 1), Status 9 while its application is being
    decided, Status 0 otherwise. Signed with ``x-digilocker-hmac``."""
    return await _pull(request, session, context, PULL_URI_REQUEST)


@router.post("/pull-doc", responses=_RESPONSES, response_class=Response)
async def pull_doc(request: Request, session: DbSession, context: Context) -> Response:
    """DigiLocker's Pull Doc request: the signed PDF (byte for byte) and/or the data of a
    URI the same DigiLocker account pulled or was pushed. Signed with ``x-digilocker-hmac``."""
    return await _pull(request, session, context, PULL_DOC_REQUEST)


apisetu_router = APIRouter(prefix="/apisetu/v1", tags=["digilocker"])


@apisetu_router.post(
    "/{doc_type}/certificate",
    responses={
        200: {"content": {"application/pdf": {}, XML: {}}, "description": "The certificate as asked (pdf, xml, json)."},
        400: {
            "description": "missing_parameter (a parameter or the consentArtifact), invalid_parameter (a malformed "
            "consentArtifact), invalid_consentid, invalid_format or invalid_txnid; `detail` says which."
        },
        401: {
            "description": "invalid_authentication: X-APISETU-CLIENTID / X-APISETU-APIKEY missing or wrong; "
            "invalid_authorization: the consent is for another issuer or document type, not yet valid, expired, "
            "or its signature does not verify (`detail` says which)."
        },
        404: {"description": "record_not_found: no certificate with this number, name and date of birth."},
        503: {"description": "service_unavailable: no consent manager key is configured (Retry-After)."},
    },
    response_model=None,
)
def apisetu_certificate(
    doc_type: Annotated[str, Path(max_length=10)],
    body: apisetu.VerificationRequest,
    session: DbSession,
    context: Context,
    client_id: Annotated[str | None, Header(alias="X-APISETU-CLIENTID")] = None,
    api_key: Annotated[str | None, Header(alias="X-APISETU-APIKEY")] = None,
) -> Response:
    """API Setu's certificate verification (Punjab eDistrict's form): the certificate whose
    number, holder's name (in Gurmukhi or English) and date of birth (where it has one)
    match, as PDF (byte for byte as signed), XML or JSON; only with the citizen's consent
    artifact, signed by the consent manager, for this issuer and document type and in force."""
    try:
        registration = apisetu.authenticate(registrations(session, context.settings.secret_key), client_id, api_key)
        verified = apisetu.verify(session, context.kit, registration, doc_type, body, datetime.now(UTC))
    except ApiSetuError as e:
        # API Setu's vocabulary (errorDescription), with the reason in our words beside it.
        answer = {"error": e.code, "errorDescription": e.message, "detail": e.detail}
        headers = {"Retry-After": str(ServiceUnavailable.retry_after_seconds)} if e.status_code == 503 else None
        return JSONResponse(answer, status_code=e.status_code, headers=headers)
    if isinstance(verified.body, bytes):
        return Response(verified.body, media_type=verified.media_type)
    return JSONResponse(verified.body)


pushes_router = APIRouter(prefix="/api/v1/digilocker", tags=["digilocker"])


@pushes_router.get("/pushes", responses={401: {"description": "No API key, or one not accepted."}})
def department_pushes(
    department: CurrentDepartment,
    session: DbSession,
    status: Annotated[str | None, Query(pattern="^(pending|sent|failed|skipped)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PushRead]:
    """The department's pushes to citizens' DigiLocker accounts, newest first, each with
    its attempts and last error: ``?status=failed`` lists those that need a person."""
    return [PushRead.model_validate(push) for push in list_pushes(session, status, limit, department.id)]
