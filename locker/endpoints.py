"""The citizen's locker API: sign in, documents, uploads, shares and the access log;
and the public end of a share link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from accounts import citizens
from issuer.service import HolderFilter
from locker import answers, documents, sharing, uploads
from locker.dependencies import ApiHolder, ApiToken, Context, CurrentVisitor, LockerContext
from locker.documents import Content, HeldDocument
from locker.schemas import (
    AccessRead,
    CodeSentRead,
    DocumentPage,
    LockerDocument,
    MobileNumber,
    SessionRead,
    ShareCreate,
    ShareCreated,
    SharedDocument,
    ShareRead,
    SignInRequest,
    UploadRead,
)
from sanad.dependencies import DbSession
from sanad.i18n import LocalizedText
from sanad.mobile import masked_mobile
from web.client import client_ip

router = APIRouter(prefix="/api/v1/locker", tags=["locker"])
public_router = APIRouter(prefix="/api/v1/shared", tags=["sharing"])

OTP_POLICY = citizens.OtpPolicy()

_SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the session ended."},
    503: {"description": "Database or object storage unavailable; retry after `Retry-After` seconds."},
}
_MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such item in your locker (another person's reads the same)."}
}


def _now() -> datetime:
    return datetime.now(UTC)


def _title_and_link(context: LockerContext, held: HeldDocument) -> tuple[LocalizedText | None, str]:
    spec = context.kit.templates.get(held.document.type)
    return spec.title if spec else None, context.kit.verify_url(held.document.id)


def to_locker_document(context: LockerContext, held: HeldDocument) -> LockerDocument:
    return LockerDocument.of(held, *_title_and_link(context, held))


def locker_document_json(context: LockerContext, held: HeldDocument) -> str:
    """What :func:`to_locker_document` serializes to, written directly (``locker.answers``)."""
    return answers.document_json(held, *_title_and_link(context, held))


def json_answer(body: bytes | str) -> Response:
    # The body goes out as it is: a returned model would be validated and serialized
    # once more, and the route's response_model only documents it.
    return Response(body, media_type="application/json")


def content_response(content: Content) -> Response:
    """A redirect to a short-lived storage link, or the bytes with their digest."""
    if content.redirect_url is not None:
        return RedirectResponse(content.redirect_url, status_code=307, headers={"Cache-Control": "no-store"})
    assert content.data is not None
    return Response(
        content.data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{content.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": content.sha256,
        },
    )


# --- sign-in -------------------------------------------------------------------------------


@router.post(
    "/otp",
    status_code=202,
    response_model=CodeSentRead,
    responses={
        422: {"description": "Not a mobile number."},
        429: {"description": "Too many codes or wrong entries; `Retry-After` says when to try again."},
        503: {"description": "The code could not be sent; retry."},
    },
)
def request_code(body: MobileNumber, request: Request, context: Context, session: DbSession) -> CodeSentRead:
    """Send a 6-digit sign-in code to a mobile number. It expires in 5 minutes; a new code
    voids the previous one. At most 3 codes per number per 15 minutes."""
    sent = citizens.send_code(
        session,
        context.channel,
        context.settings.secret_key,
        OTP_POLICY,
        mobile=body.mobile,
        ip=client_ip(request),
        now=_now(),
    )
    return CodeSentRead(mobile=masked_mobile(sent.mobile), expires_at=sent.expires_at, resend_after=sent.resend_after)


@router.post(
    "/session",
    response_model=SessionRead,
    responses={
        401: {"description": "Wrong, used or expired code."},
        429: {"description": "Too many wrong codes; `Retry-After` says when to try again."},
    },
)
def sign_in(body: SignInRequest, request: Request, context: Context, session: DbSession) -> SessionRead:
    """Exchange the code for a bearer token. Five wrong entries void a code."""
    signed_in = citizens.sign_in(
        session,
        context.settings.secret_key,
        OTP_POLICY,
        mobile=body.mobile,
        code=body.code,
        ip=client_ip(request),
        now=_now(),
        session_lifetime=timedelta(hours=context.settings.locker_session_hours),
    )
    return SessionRead(access_token=signed_in.token, expires_at=signed_in.expires_at)


@router.delete("/session", status_code=204, responses=_SIGNED_IN)
def sign_out(_: ApiHolder, token: ApiToken, session: DbSession) -> Response:
    """End this session: its token stops working at once."""
    citizens.sign_out(session, token, _now())
    return Response(status_code=204)


# --- documents -------------------------------------------------------------------------------


@router.get("/documents", response_model=DocumentPage, responses={**_SIGNED_IN, 422: {"description": "Bad filter."}})
def list_documents(
    token: ApiToken,
    context: Context,
    type: Annotated[str | None, Query(max_length=64, description="Only this document type.")] = None,
    department: Annotated[str | None, Query(max_length=32, description="Only this department's code.")] = None,
    status: Annotated[str | None, Query(description="valid, expired, revoked or superseded.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Every document issued to you, newest first. Revoked, expired and superseded ones stay
    listed with their status."""
    page, next_cursor = documents.signed_in_documents(
        context.read_engine,
        token,
        _now(),
        HolderFilter(type=type, department=department, status=status),
        cursor=cursor,
        limit=limit,
    )
    return json_answer(answers.page_json((locker_document_json(context, held) for held in page), next_cursor))


@router.get("/documents/{document_id}", response_model=LockerDocument, responses={**_SIGNED_IN, **_MISSING})
def get_document(document_id: str, token: ApiToken, context: Context) -> Response:
    """One of your documents."""
    held = documents.signed_in_document(context.read_engine, token, _now(), document_id)
    return json_answer(locker_document_json(context, held))


@router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={
        **_SIGNED_IN,
        **_MISSING,
        200: {"content": {"application/pdf": {}}, "description": "The signed PDF (filesystem storage)."},
        307: {"description": "A link valid for 60 seconds to the signed PDF in object storage."},
    },
)
def get_document_content(document_id: str, token: ApiToken, context: Context) -> Response:
    """The signed PDF exactly as issued: its SHA-256 equals the document's `sha256`."""
    held = documents.signed_in_document(context.read_engine, token, _now(), document_id)
    return content_response(documents.content_of(context.store, held.document))


# --- shares and the access log ----------------------------------------------------------------


@router.post(
    "/documents/{document_id}/shares",
    status_code=201,
    response_model=ShareCreated,
    responses={**_SIGNED_IN, **_MISSING, 409: {"description": "The document has as many live links as allowed."}},
)
def create_share(
    document_id: str, body: ShareCreate, holder: ApiHolder, context: Context, session: DbSession
) -> ShareCreated:
    """Make a link that lets anyone holding it see and download this document, with its live
    status, until it expires (at most 30 days), is used (if single-use) or you revoke it."""
    now = _now()
    created = sharing.create_share(
        session,
        holder,
        document_id,
        expires_at=now + timedelta(days=body.expires_in_days),
        single_use=body.single_use,
        purpose=body.purpose,
        now=now,
        max_live=context.settings.locker_max_live_shares,
    )
    read = ShareRead.of(created.share, now)
    return ShareCreated(**read.model_dump(), url=f"{context.settings.public_base_url}/s/{created.token}")


@router.get("/documents/{document_id}/shares", response_model=list[ShareRead], responses={**_SIGNED_IN, **_MISSING})
def list_shares(document_id: str, holder: ApiHolder, session: DbSession) -> list[ShareRead]:
    """Every link made for this document, newest first (the links themselves are not stored)."""
    now = _now()
    return [ShareRead.of(s, now) for s in sharing.shares_of(session, holder, document_id)]


@router.delete(
    "/shares/{share_id}",
    response_model=ShareRead,
    responses={**_SIGNED_IN, **_MISSING, 409: {"description": "Already revoked."}},
)
def revoke_share(share_id: str, holder: ApiHolder, session: DbSession) -> ShareRead:
    """Withdraw a link at once; opening it then answers 410."""
    now = _now()
    return ShareRead.of(sharing.revoke_share(session, holder, share_id, now), now)


@router.get("/access-log", response_model=list[AccessRead], responses={**_SIGNED_IN, **_MISSING})
def access_log(
    holder: ApiHolder,
    session: DbSession,
    document_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[AccessRead]:
    """Who opened your documents through your share links or a requester you allowed: when,
    from which address and browser, through which share."""
    events = sharing.access_log(session, holder, document_id=document_id, limit=limit)
    return [AccessRead.of(event, purpose) for event, purpose in events]


# --- uploads ------------------------------------------------------------------------------------


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadRead,
    responses={
        **_SIGNED_IN,
        413: {"description": "Larger than the upload limit (10 MB by default)."},
        415: {"description": "Not a PDF, JPEG or PNG file."},
    },
)
def add_upload(
    file: Annotated[UploadFile, File(description="A PDF, JPEG or PNG file.")],
    holder: ApiHolder,
    context: Context,
    session: DbSession,
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> UploadRead:
    """Keep a file of your own in your locker. It is marked as uploaded by you, not verified."""
    limit = context.settings.locker_upload_max_bytes
    data = file.file.read(limit + 1)
    upload = uploads.add_upload(
        session,
        context.store,
        holder,
        data=data,
        filename=file.filename,
        declared_type=file.content_type,
        title=title,
        max_bytes=limit,
        now=_now(),
    )
    return UploadRead.of(upload)


@router.get("/uploads", response_model=list[UploadRead], responses=_SIGNED_IN)
def list_uploads(holder: ApiHolder, session: DbSession) -> list[UploadRead]:
    """Your uploaded files, newest first."""
    return [UploadRead.of(u) for u in uploads.list_uploads(session, holder)]


@router.get(
    "/uploads/{upload_id}/content",
    response_class=Response,
    responses={**_SIGNED_IN, **_MISSING, 200: {"description": "The file as uploaded."}},
)
def get_upload_content(upload_id: str, holder: ApiHolder, context: Context, session: DbSession) -> Response:
    """The uploaded file, byte for byte."""
    upload, data = uploads.read_upload(session, context.store, holder, upload_id)
    return Response(
        data,
        media_type=upload.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{upload.id}{_extension(upload.content_type)}"',
            "Cache-Control": "private, no-store",
        },
    )


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(content_type, "")


@router.delete("/uploads/{upload_id}", status_code=204, responses={**_SIGNED_IN, **_MISSING})
def delete_upload(upload_id: str, holder: ApiHolder, context: Context, session: DbSession) -> Response:
    """Remove an uploaded file from your locker."""
    uploads.delete_upload(session, context.store, holder, upload_id)
    return Response(status_code=204)


# --- the public end of a share link -------------------------------------------------------------

_SHARE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such share link."},
    410: {"description": "The link expired, was revoked by its owner, or (single-use) was used."},
}


@public_router.get("/{token}", response_model=SharedDocument, responses=_SHARE_ERRORS)
def open_share(token: str, visitor: CurrentVisitor, context: Context, session: DbSession) -> SharedDocument:
    """The shared document and its live status, for whoever holds the link (no account needed).
    The owner sees this access in their access log."""
    share, held = sharing.view_share(session, token, visitor, _now())
    return SharedDocument(
        document=to_locker_document(context, held),
        expires_at=share.expires_at,
        single_use=share.single_use,
        content_url=f"{context.settings.public_base_url}/api/v1/shared/{token}/content",
    )


@public_router.get(
    "/{token}/content",
    response_class=Response,
    responses={**_SHARE_ERRORS, 200: {"content": {"application/pdf": {}}}, 307: {"description": "Storage link."}},
)
def download_share(token: str, visitor: CurrentVisitor, context: Context, session: DbSession) -> Response:
    """The shared signed PDF. A single-use link stops working after this."""
    _, held = sharing.download_share(session, token, visitor, _now())
    return content_response(documents.content_of(context.store, held.document))
