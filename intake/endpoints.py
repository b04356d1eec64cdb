"""The intake API: the catalogue, applications and their attachments, decisions, pendency,
and staff sign-in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from accounts import staff
from accounts.models import StaffRole
from intake import applications, multipart, pendency, repository, returns
from intake.applications import Applicant
from intake.attachments import UploadedFile
from intake.dependencies import (
    CREDENTIALS_SECURITY,
    Caller,
    Context,
    CurrentCaller,
    CurrentStaff,
    IntakeContext,
    StaffToken,
    caller_between_transactions,
    credentials_of,
    get_caller,
    token_of,
)
from intake.models import Application, ApplicationEvent, ApplicationStatus, Attachment, IntakeChannel
from intake.pendency_settled import SETTLED
from intake.schemas import (
    ApplicationRead,
    ApplicationSummary,
    AttachmentRead,
    DecisionCreate,
    OfficeRead,
    PendencyLine,
    PendencyRead,
    ResubmissionCreate,
    ReturnRequest,
    ServiceRead,
    ServiceSummary,
    StaffSessionRead,
    StaffSignIn,
    TimelineEntry,
)
from sanad.clock import today_in_india
from sanad.db import session_scope
from sanad.dependencies import DbSession
from sanad.errors import FieldError, Forbidden, InvalidInput, NotFound
from sanad.i18n import LANGUAGES
from sanad.mobile import normalize_mobile
from web.client import client_ip
from web.i18n import pick_language

router = APIRouter(prefix="/api/v1", tags=["intake"])
submission_router = APIRouter(prefix="/api/v1", tags=["intake"])
"""``POST /api/v1/applications`` alone: the app serves it as a route of its own, ahead of
the included routers (see ``app.factory``), since it is the busiest write."""

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in."},
    404: {"description": "No such application for you (another department's reads the same)."},
    503: {"description": "Database or object storage unavailable; retry."},
}


def _now() -> datetime:
    return datetime.now(UTC)


def to_read(context: IntakeContext, session: DbSession, application: Application) -> ApplicationRead:
    return read_of(
        context,
        application,
        repository.events_of(session, application.id),
        repository.attachments_of(session, application.id),
    )


def read_of(
    context: IntakeContext,
    application: Application,
    events: Sequence[ApplicationEvent],
    attachments: Sequence[Attachment],
) -> ApplicationRead:
    """The answer about ``application``, from its timeline (oldest first) and its
    attachments (by kind)."""
    summary = ApplicationSummary.of(application, today_in_india())
    return_request = None
    if application.status == ApplicationStatus.RETURNED:
        marks = returns.marks_of(events)
        returned = next((e for e in reversed(events) if e.kind == "returned"), None)
        return_request = ReturnRequest(
            remarks=returned.remarks if returned else None,
            fields=list(marks.fields),
            attachments=list(marks.attachments),
        )
    return ApplicationRead(
        **summary.model_dump(),
        channel=application.channel,
        language=application.language,
        mobile=application.mobile,
        form=application.form,
        officer_values=application.officer_values,
        document_id=application.document_id,
        verify_url=context.kit.verify_url(application.document_id) if application.document_id else None,
        decision_reason=application.decision_reason,
        return_request=return_request,
        attachments=[AttachmentRead.of(a) for a in attachments],
        timeline=[TimelineEntry.of(e) for e in events],
    )


# --- the catalogue ------------------------------------------------------------------------------


@router.get("/services", response_model=list[ServiceSummary])
def list_services(
    context: Context, department: Annotated[str | None, Query(max_length=32)] = None
) -> list[ServiceSummary]:
    """Every notified service Sanad takes applications for."""
    catalogue = context.intake.catalogue
    services = catalogue.by_department(department.upper()) if department else tuple(catalogue)
    return [ServiceSummary.of(s) for s in services]


@router.get("/services/{code}", response_model=ServiceRead, responses={404: {"description": "No such service."}})
def get_service(code: str, context: Context) -> ServiceRead:
    """A service's form, attachments, time limit and authorities, in English, Punjabi and Hindi."""
    service = context.intake.catalogue.get(code)
    if service is None:
        raise NotFound("no such service")
    return ServiceRead.of(service)


@router.get(
    "/services/{code}/offices", response_model=list[OfficeRead], responses={404: {"description": "No such service."}}
)
def service_offices(code: str, context: Context) -> list[OfficeRead]:
    """The offices an application for this service can go to."""
    service = context.intake.catalogue.get(code)
    if service is None:
        raise NotFound("no such service")
    return [
        OfficeRead.of(o)
        for o in context.intake.offices.values()
        if o.department == service.department and o.kind == service.office_kind
    ]


# --- applying -----------------------------------------------------------------------------------


@submission_router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationRead,
    responses={
        **_ERRORS,
        400: {"description": "The body is not well-formed multipart (`malformed_body`, saying what is wrong)."},
        408: {"description": "The request body arrived too slowly."},
        409: {
            "description": "From an operator: an identical application (same service, mobile number and "
            "answers) was filed lately (30 days unless configured); `existing_number` names it. Nothing was filed."
        },
        413: {"description": "An attachment is larger than the service allows."},
        415: {"description": "An attachment is not of a type the service accepts."},
        422: {"description": "Every invalid field, with a message in the requested language."},
    },
    openapi_extra={"security": CREDENTIALS_SECURITY},
)
async def submit_application(request: Request) -> ApplicationRead:
    """Apply for a service (multipart form): `service`, `office`, `form` (the answers as a
    JSON object), one file per attachment named `attachment.<kind>`; an operator also
    sends `mobile` (the citizen's, which the form's mobile answers must repeat or leave
    blank), `channel` (`sewa_kendra` or `doorstep`), optionally `citizen_language` (`en`,
    `pa` or `hi`: the language of the citizen's notices, by default the request's), and
    `confirm_duplicate=true` to file although an identical application was filed lately
    (otherwise that is a 409 naming it).
    Messages come in the language of `?lang=` or `Accept-Language` (en, pa, hi)."""
    # The context and the token are read here rather than solved as dependencies, which
    # cost more than the reads (the operation still declares the token: openapi_extra).
    # The filing runs in a pool thread, in a transaction of its own committed there as the
    # request's session would be (which would add two trips, opening and closing it). A
    # caller without a live session is refused before the body is parsed; a body larger
    # than a JSON body may be, before it is even read.
    context: IntakeContext = request.app.state.context
    credentials = await credentials_of(request)
    token_of(credentials)  # none at all: refused without a trip
    language = pick_language(request)
    content_type = request.headers.get("content-type", "")
    if _read_before_the_caller(request, content_type, context.settings.max_json_bytes):
        body = await request.body()
        return await run_in_threadpool(_find_caller_and_file, context, credentials, body, content_type, language)
    # Two trips: who calls, through a read session that gives its connection back at once
    # (a large body may take long to arrive), then the filing.
    caller = await run_in_threadpool(caller_between_transactions, context, credentials)
    fields, files = await _multipart(request, content_type)
    return await run_in_threadpool(_file_in_transaction, context, caller, fields, files, language)


def _read_before_the_caller(request: Request, content_type: str, limit: int) -> bool:
    """A multipart body that says it is no larger than ``limit`` (the largest JSON body,
    which every JSON request may make the server read before it knows who calls): read
    whole first, it is filed in one trip to a pool thread, with one connection, whose
    transaction also finds the caller. A larger or unsized body is read only once the
    caller is known."""
    length = request.headers.get("content-length", "")
    return multipart.is_multipart(content_type) and length.isdigit() and int(length) <= limit


def _find_caller_and_file(
    context: IntakeContext,
    credentials: HTTPAuthorizationCredentials | None,
    body: bytes,
    content_type: str,
    language: str,
) -> ApplicationRead:
    with session_scope(context.sessions) as session:
        caller = get_caller(session, credentials)
        fields, files = _parts(body, content_type)
        return _file(context, session, caller, fields, files, language)


def _file_in_transaction(
    context: IntakeContext, caller: Caller, fields: dict[str, str], files: list[UploadedFile], language: str
) -> ApplicationRead:
    with session_scope(context.sessions) as session:
        return _file(context, session, caller, fields, files, language)


def _file(
    context: IntakeContext,
    session: DbSession,
    caller: Any,
    fields: dict[str, str],
    files: list[UploadedFile],
    language: str,
) -> ApplicationRead:
    applicant = _applicant(caller, fields, language)
    form = _form_json(fields.get("form") or "{}")
    submitted = applications.submit(
        session,
        context.intake,
        applicant,
        service_code=fields.get("service", ""),
        office_code=fields.get("office", ""),
        form=form,
        files=files,
        now=_now(),
        confirm_duplicate=fields.get("confirm_duplicate", "").strip().lower() == "true",
    )
    # From the rows just committed: reading them back cost two queries and a connection.
    return read_of(context, submitted.application, submitted.timeline, submitted.attachments)


_MAX_FILES, _MAX_FIELDS = 20, 50


async def _multipart(request: Request, content_type: str) -> tuple[dict[str, str], list[UploadedFile]]:
    """The text parts and the ``attachment.<kind>`` files of the request's body."""
    if not multipart.is_multipart(content_type):
        return await _other_form(request)
    return _parts(await request.body(), content_type)


def _parts(whole: bytes, content_type: str) -> tuple[dict[str, str], list[UploadedFile]]:
    """The text parts and the ``attachment.<kind>`` files of a multipart body."""
    body = multipart.parse(whole, content_type, max_files=_MAX_FILES, max_fields=_MAX_FIELDS)
    fields = {p.name: p.text(body.charset) for p in body.parts if p.filename is None}
    files = [
        UploadedFile(
            kind=p.name.removeprefix("attachment."),
            filename=p.filename,
            declared_type=p.content_type,
            data=p.data,
        )
        for p in body.parts
        if p.filename is not None and p.name.startswith("attachment.")
    ]
    return fields, files


async def _other_form(request: Request) -> tuple[dict[str, str], list[UploadedFile]]:
    """A body of another type, as Starlette reads forms (an URL-encoded one has fields only)."""
    async with request.form(max_files=_MAX_FILES, max_fields=_MAX_FIELDS) as body:
        fields = {k: v for k, v in body.multi_items() if isinstance(v, str)}
        files = [
            UploadedFile(
                kind=k.removeprefix("attachment."),
                filename=v.filename or "",
                declared_type=v.content_type,
                data=await v.read(),
            )
            for k, v in body.multi_items()
            if not isinstance(v, str) and k.startswith("attachment.")
        ]
    return fields, files


def _form_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInput([FieldError("form", "must be a JSON object of answers")]) from e


def _applicant(caller: Any, fields: dict[str, str], language: str) -> Applicant:
    if caller.mobile is not None:
        return Applicant(mobile=caller.mobile, language=language, channel=IntakeChannel.ONLINE)
    member = caller.staff
    if member.role != StaffRole.OPERATOR:
        raise Forbidden("only a citizen or a Sewa Kendra operator can apply")
    problems = []
    try:
        mobile = normalize_mobile(fields.get("mobile", ""))
    except ValueError as e:
        problems.append(FieldError("mobile", str(e)))
    channel = fields.get("channel", IntakeChannel.SEWA_KENDRA)
    if channel not in (IntakeChannel.SEWA_KENDRA, IntakeChannel.DOORSTEP):
        problems.append(FieldError("channel", "must be sewa_kendra or doorstep"))
    citizen_language = fields.get("citizen_language") or language
    if citizen_language not in LANGUAGES:
        problems.append(FieldError("citizen_language", "must be en, pa or hi"))
    if problems:
        raise InvalidInput(problems)
    return Applicant(
        mobile=mobile,
        language=language,
        channel=IntakeChannel(channel),
        operator=member,
        notice_language=citizen_language,
    )


@router.get("/applications", response_model=list[ApplicationSummary], responses=_ERRORS)
def list_applications(
    caller: CurrentCaller,
    session: DbSession,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[ApplicationSummary]:
    """A citizen's own applications, newest first; for staff, their desk's queue, earliest
    due first (pending ones unless `status` says otherwise)."""
    today = today_in_india()
    if caller.mobile is not None:
        found = repository.of_mobile(session, caller.mobile, limit)
    else:
        assert caller.staff is not None
        found = applications.staff_queue(session, caller.staff, status, limit)
    return [ApplicationSummary.of(a, today) for a in found]


@router.get(
    "/applications/track",
    response_model=ApplicationRead,
    responses={404: {"description": "No match."}, 429: {"description": "Too many misses from this address."}},
)
def track(
    request: Request,
    context: Context,
    session: DbSession,
    number: Annotated[str, Query(max_length=40)],
    mobile: Annotated[str, Query(max_length=20, description="The mobile number given when applying.")],
) -> ApplicationRead:
    """Track an application without signing in: the number and the mobile number given
    when applying must both match; anything else answers 404 and reveals nothing. Twenty
    misses from one address in 15 minutes answer 429 until the window passes."""
    application = applications.track(session, number, mobile, client_ip(request), _now())
    return to_read(context, session, application)


def _visible(caller: Any, session: DbSession, number: str) -> Application:
    if caller.mobile is not None:
        return applications.for_citizen(session, caller.mobile, number)
    return applications.for_staff(session, caller.staff, number)


@router.get("/applications/{number}", response_model=ApplicationRead, responses=_ERRORS)
def get_application(number: str, caller: CurrentCaller, context: Context, session: DbSession) -> ApplicationRead:
    """An application with its attachments and timeline (its citizen, or its department's staff)."""
    return to_read(context, session, _visible(caller, session, number))


@router.get(
    "/applications/{number}/attachments/{attachment_id}",
    response_class=Response,
    responses={**_ERRORS, 200: {"description": "The file as uploaded."}},
)
def get_attachment(
    number: str, attachment_id: str, caller: CurrentCaller, context: Context, session: DbSession
) -> Response:
    """One attachment, byte for byte."""
    application = _visible(caller, session, number)
    for attachment in repository.attachments_of(session, application.id):
        if attachment.id == attachment_id:
            return Response(
                applications.attachment_bytes(context.store, attachment),
                media_type=attachment.content_type,
                headers={
                    "Cache-Control": "private, no-store",
                    "Content-Disposition": f'attachment; filename="{attachment.kind}"',
                },
            )
    raise NotFound("no such attachment")


@router.post(
    "/applications/{number}/decisions",
    response_model=ApplicationRead,
    responses={
        **_ERRORS,
        403: {"description": "Your role cannot decide."},
        409: {"description": "Already decided, or changed by someone else since you read it."},
        422: {"description": "Remarks missing for a rejection or return, or an officer field missing or invalid."},
    },
)
def decide(
    number: str, body: DecisionCreate, request: Request, member: CurrentStaff, context: Context, session: DbSession
) -> ApplicationRead:
    """Take an application up (`review`), `approve` it (its certificate is issued at once
    and placed in the citizen's locker), `reject` it (with the reason) or `return` it to
    the citizen for information (with what is needed; the legal clock pauses). A return
    marks exactly what the citizen must change: `fields` of the service's form to correct
    and `attachments` (kinds of document) to upload; the answer may change nothing else.
    An unknown name answers 422. An approval fills the service's officer fields
    (`officer_values`); one missing or invalid answers 422 and nothing is decided or issued."""
    application = applications.decide(
        session,
        context.intake,
        member,
        number,
        action=body.action,
        remarks=body.remarks,
        version=body.version,
        fields=body.fields,
        attachments=body.attachments,
        officer_values=body.officer_values,
        language=pick_language(request),
        now=_now(),
    )
    return to_read(context, session, application)


_RESUBMISSION_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": ResubmissionCreate.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "form": {"type": "string", "description": "JSON object: new answers to the marked fields."},
                    "remarks": {"type": "string", "maxLength": 2000},
                    "attachment.<kind>": {"type": "string", "format": "binary"},
                },
            }
        },
    },
}


@router.post(
    "/applications/{number}/resubmission",
    response_model=ApplicationRead,
    openapi_extra={"requestBody": _RESUBMISSION_BODY},
    responses={
        **_ERRORS,
        409: {"description": "Not returned to you."},
        413: {"description": "A file is larger than the service allows."},
        415: {"description": "A file is not of a type the service accepts."},
        422: {"description": "Every problem at once: invalid answers, changes the return did not ask for."},
    },
)
async def resubmit(
    request: Request, number: str, caller: CurrentCaller, context: Context, session: DbSession
) -> ApplicationRead:
    """Answer a return (the citizen): new answers to the fields it marked, a file for
    each document it marked (`attachment.<kind>`, replacing the one sent or adding one;
    the replaced file stays listed), and remarks. As JSON (`form`, `remarks`) or, with
    files, multipart (`form` as a JSON string). Anything the return did not mark is
    refused (422), every problem at once, in the language of `?lang=` or
    `Accept-Language`. The clock resumes and the due date moves out by the paused days."""
    if caller.mobile is None:
        raise Forbidden("the citizen resubmits their own application")
    files: list[UploadedFile] = []
    if request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields, files = await _multipart(request, request.headers.get("content-type", ""))
        answers = _form_json(fields["form"]) if fields.get("form") else None
        remarks = fields.get("remarks")
        if remarks is not None and len(remarks) > 2000:
            raise InvalidInput([FieldError("remarks", "must be at most 2000 characters")])
    else:
        try:
            body = ResubmissionCreate.model_validate_json(await request.body() or b"{}")
        except ValidationError as e:
            raise InvalidInput(
                [
                    FieldError(".".join(str(p) for p in error["loc"]) or "body", error["msg"])
                    for error in e.errors()[:20]
                ]
            ) from None
        answers, remarks = body.form, body.remarks
    application = applications.resubmit(
        session,
        context.intake,
        caller.mobile,
        number,
        answers=answers,
        files=files,
        remarks=remarks,
        language=pick_language(request),
        now=_now(),
    )
    return to_read(context, session, application)


# --- pendency --------------------------------------------------------------------------------------


@router.get(
    "/pendency",
    response_model=PendencyRead,
    responses={
        **_ERRORS,
        200: {"content": {"text/csv": {}}},
        403: {"description": "Head office and department admins."},
    },
)
def get_pendency(
    member: CurrentStaff,
    session: DbSession,
    department: Annotated[str | None, Query(max_length=32)] = None,
    office: Annotated[str | None, Query(max_length=32)] = None,
    service: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}$", description="First month of disposal figures.")
    ] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Open applications by department, office, service and status; overdue and due within
    2 days; cases disposed and their average and 90th-percentile disposal time in working
    days (from `since`, default: this year). `format=csv` for a spreadsheet."""
    rows = pendency_rows(member, session, department, office, service, since)
    if format == "csv":
        return PlainTextResponse(
            pendency.as_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pendency.csv"'},
        )
    today = today_in_india()
    return PendencyRead(
        today=today,
        since_month=since or f"{today.year}-01",
        rows=[PendencyLine.of(r) for r in rows],
        totals=PendencyLine.of(pendency.totals(rows)),
    )


def pendency_rows(
    member: Any, session: DbSession, department: str | None, office: str | None, service: str | None, since: str | None
) -> list[pendency.PendencyRow]:
    from sanad.departments import get_department

    if member.role not in (StaffRole.HEAD_OFFICE, StaffRole.DEPARTMENT_ADMIN):
        raise Forbidden("pendency is for head office and department admins")
    department_id = get_department(session, department.upper()).id if department else None
    if member.role == StaffRole.DEPARTMENT_ADMIN:
        department_id = member.department_id
    today = today_in_india()
    return pendency.pendency(
        session,
        today=today,
        since_month=since or f"{today.year}-01",
        department_id=department_id,
        office=office,
        service=service,
        settled=SETTLED,
    )


# --- staff sign-in -------------------------------------------------------------------------------------


@router.post(
    "/staff/session",
    response_model=StaffSessionRead,
    tags=["staff"],
    responses={401: {"description": "Wrong username or password."}, 429: {"description": "Locked for 15 minutes."}},
)
def staff_sign_in(body: StaffSignIn, request: Request, session: DbSession) -> StaffSessionRead:
    """Sign in as staff; five failures lock the username for 15 minutes."""
    member, token = staff.sign_in(session, body.username, body.password, client_ip(request), _now())
    return StaffSessionRead(access_token=token, role=member.role, full_name=member.full_name)


@router.delete("/staff/session", status_code=204, tags=["staff"], responses={401: {"description": "Not signed in."}})
def staff_sign_out(_: CurrentStaff, token: StaffToken, session: DbSession) -> Response:
    staff.sign_out(session, token, _now())
    return Response(status_code=204)
