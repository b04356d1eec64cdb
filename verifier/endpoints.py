"""Public verification: the QR code's page and PDF upload (trust routes: ``trust_endpoints``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import BadRequest, PayloadTooLarge, ServiceUnavailable, TooManyRequests
from verifier import capacity, plain_words, service
from verifier.capacity import CheckingSlots, Slots
from verifier.dependencies import Context, VerifierContext
from verifier.lookup_cache import UNKNOWN, LookupAnswer
from verifier.offline_page import SEAL_CHECK_CSP
from verifier.sandbox import sandboxed_checker
from verifier.schemas import LookupResult, VerificationResult
from verifier.service import Verdict
from web.client import client_ip
from web.compression import KeptBody
from web.conditional import none_match, revalidated
from web.i18n import pick_language

router = APIRouter(tags=["verification"])


def _wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/V/{document_id}", include_in_schema=False)  # the QR code's alphanumeric spelling
@router.get(
    "/v/{document_id}",
    response_model=LookupResult,
    responses={
        200: {"content": {"text/html": {}}, "description": "The document's public record: a page, or JSON."},
        304: {"description": "Unchanged since the `ETag` sent in `If-None-Match`."},
        404: {"model": LookupResult, "content": {"text/html": {}}, "description": "No such document."},
    },
)
async def lookup(document_id: str, request: Request, context: Context) -> Response:
    """The page a QR code opens. HTML for people; JSON with `Accept: application/json`.

    Answers carry an `ETag` and `Cache-Control: no-cache`: send `If-None-Match` to get a
    `304` while nothing shown has changed; a revocation changes the tag at once."""
    document_id = document_id.lower()  # ids are lower-case base32; QR codes print them upper case
    # A coroutine: an answer this process keeps (verifier/lookup_cache.py) costs no pool
    # thread; only a database read goes to one.
    answer = context.lookups.get(document_id, today_in_india())
    if answer is None:
        answer = UNKNOWN if len(document_id) > 64 else await run_in_threadpool(context.lookups.read, document_id)
    # One URL, two representations: caches keep them apart by the Accept header.
    if _wants_json(request):
        return _sent(request, answer.json, answer.found, "application/json", {"Vary": "Accept"})
    language = pick_language(request)
    headers = {
        "Content-Language": language,
        "Content-Security-Policy": SEAL_CHECK_CSP,  # its script checks the QR's seal
        # The page's language comes from the reader's choice (a cookie) or their browser.
        "Vary": "Accept, Accept-Language, Cookie",
    }
    return _sent(request, _page(request, document_id, answer, language), answer.found, "text/html", headers)


def _page(request: Request, document_id: str, answer: LookupAnswer, language: str) -> KeptBody:
    """The lookup page in the reader's language, rendered once per kept answer and address."""
    # The address as the server got it: building ``request.url`` costs more than the rest.
    key = (language, request.scope["path"], request.scope["query_string"])
    page = answer.pages.get(key)
    if page is None:
        values = {"result": answer.result, "document_id": document_id}
        status_code = 200 if answer.found else 404
        page = KeptBody(bytes(plain_words.render(request, "lookup.html", values, status_code=status_code).body))
        answer.keep_page(key, page)
    return page


def _sent(request: Request, body: KeptBody, found: bool, media_type: str, headers: dict[str, str]) -> Response:
    """A found document's answer as the client takes it (compressed once per kept answer,
    tagged, or a 304); an unknown id's 404 as it is, untagged."""
    if not found:
        return revalidated(request, Response(body.identity, status_code=404, media_type=media_type, headers=headers))
    if none_match(request.headers.get("if-none-match"), body.etag):
        content, coding = body.identity, None  # a 304 sends no body: nothing to compress
    else:
        content, coding = body.as_sent(request.headers.get("accept-encoding", ""))
    if coding is not None:
        headers["Content-Encoding"] = coding
    return revalidated(request, Response(content, media_type=media_type, headers=headers), etag=body.etag)


@router.post(
    "/api/v1/verify",
    response_model=VerificationResult,
    responses={
        400: {"description": "Not a PDF, a truncated one, or one whose check took more than its CPU budget."},
        413: {"description": "Larger than the configured upload limit."},
        429: {"description": "Too many files from this address; retry after `Retry-After` seconds."},
        503: {"description": "Registry unavailable, or every checking slot busy; retry after `Retry-After`."},
    },
)
def verify_upload(
    file: Annotated[UploadFile, File(description="The PDF to verify.")],
    request: Request,
    context: Context,
    session: DbSession,
    slots: Slots,
) -> VerificationResult:
    """Verify a PDF: signature intact and covering the whole file, signer chained to the
    trust anchors, no change after certification, and a matching registry record in force.

    `indication` is TOTAL_PASSED only when every check passes; otherwise `reasons` say why.

    Each client address may have 10 files checked a minute (429 with `Retry-After` beyond;
    `SANAD_VERIFY_UPLOADS_PER_WINDOW`), and a server checks a few files at once (503 with
    `Retry-After` when all are busy).
    """
    return VerificationResult.of(_check_upload(file, request, context, session, slots))


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_form(request: Request) -> Response:
    return plain_words.render(request, "upload.html", {"result": None, "error": None})


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_form_submit(
    request: Request, file: Annotated[UploadFile, File()], context: Context, session: DbSession, slots: Slots
) -> Response:
    try:
        result = VerificationResult.of(_check_upload(file, request, context, session, slots))
    except (BadRequest, PayloadTooLarge, TooManyRequests, ServiceUnavailable) as e:
        page = plain_words.render(
            request,
            "upload.html",
            {"result": None, "error": plain_words.why_not_checked(request, e)},
            status_code=e.status_code,
        )
        if retry_after := getattr(e, "retry_after_seconds", None):
            page.headers["Retry-After"] = str(retry_after)
        return page
    return plain_words.render(request, "upload.html", {"result": result, "error": None})


def _check_upload(
    file: UploadFile, request: Request, context: VerifierContext, session: Session, slots: CheckingSlots
) -> Verdict:
    """The verdict on an uploaded file, cheapest refusals first: the address's share of
    uploads, the size, the look of a PDF, then one of the process's slots for the check."""
    capacity.count_upload(session, context.settings, client_ip(request), datetime.now(UTC))
    pdf = _read_limited(file, context.settings.max_upload_bytes)
    service.require_pdf(pdf)
    with slots.slot():
        check = sandboxed_checker(context.settings.verify_max_concurrent, context.settings.verify_cpu_seconds)
        return service.verify_pdf(session, context.trust, pdf, check=check)


def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is larger than the {limit // (1024 * 1024)} MB limit")
    return data
