"""The desk: staff sign-in, the officer's queue, one application with its answers,
attachments and timeline, and the decision buttons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts import staff
from accounts.cookies import STAFF_COOKIE
from accounts.models import StaffRole
from accounts.staff import SESSION_LIFETIME, StaffMember
from intake import applications
from intake.applications import DECIDERS
from intake.catalogue import ServiceSpec
from intake.dependencies import Context, IntakeContext
from intake.i18n import MESSAGES
from intake.models import PENDING, Application, ApplicationStatus, Attachment
from intake.returns import MAX_MARKS
from intake.schemas import ApplicationSummary
from intake.views_common import DESK, PAGES, MaybeMember, SignedInMember, now
from intake.views_history import timeline
from intake.views_parts import (
    FIELD_PREFIX,
    Rejection,
    answer_text,
    answers_list,
    attachment_labels,
    attachment_or_404,
    attachment_response,
    attachments_of,
    days_left,
    field_views,
    office_names,
    service_names,
)
from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from web.client import client_ip
from web.csrf import CsrfValid
from web.i18n import localized, pick_language, whole_minutes
from web.navigation import safe_next
from web.security import PAGE_CSP

router = APIRouter(prefix="/desk", include_in_schema=False, route_class=PAGES.route_class)

QUEUE_LIMIT = 200
SEARCH_LIMIT = 50
QUEUE_STATUSES = tuple(status.value for status in ApplicationStatus)
ACTIONS = ("review", "approve", "reject", "return")
NEEDS_REMARKS = ("reject", "return")
MARK_FIELD = "field."
MARK_ATTACHMENT = "attachment."
"""The return form's checkboxes are all called ``mark``, valued ``field.<name>`` or ``attachment.<kind>``."""


def _page_of(number: str) -> str:
    return f"/desk/applications/{quote(number, safe='')}"


def _application_page_of(request: Request) -> str:
    return _page_of(request.path_params["number"])


DecisionForm = Annotated[StaffMember, Depends(DESK.form(back=_application_page_of))]
"""The decision buttons of an application's page, posted by the signed-in staff member."""


def home_of(member: StaffMember) -> str:
    """Where a staff member starts: the queue, the operator's counter, or pendency."""
    if member.role == StaffRole.HEAD_OFFICE:
        return "/desk/pendency"
    if member.role == StaffRole.OPERATOR:
        return "/desk/apply"
    return "/desk"


# --- signing in ---------------------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_form(request: Request, member: MaybeMember, next: str | None = None) -> Response:
    if member is not None:
        return RedirectResponse(safe_next(next, home_of(member)), status_code=303)
    notice = "desk.signed_out" if request.query_params.get("signed_out") else ("desk.sign_in_first" if next else None)
    return PAGES.render(request, "desk_sign_in.html", {"next": safe_next(next, ""), "notice": notice, "username": ""})


@router.post("/sign-in")
def sign_in(
    request: Request,
    context: Context,
    session: DbSession,
    genuine: CsrfValid,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t = PAGES.translator(request)
    values = {"next": safe_next(next, ""), "username": username}
    if not genuine:
        return PAGES.render(request, "desk_sign_in.html", {**values, "error": t("error.form_expired")}, status_code=400)
    if not username or not password:
        return PAGES.render(
            request, "desk_sign_in.html", {**values, "error": t("desk.wrong_password")}, status_code=422
        )
    try:
        member, token = staff.sign_in(session, username, password, client_ip(request), now())
    except Unauthorized:
        return PAGES.render(
            request, "desk_sign_in.html", {**values, "error": t("desk.wrong_password")}, status_code=401
        )
    except TooManyRequests as e:
        error = t("desk.locked", minutes=whole_minutes(e.retry_after_seconds))
        response = PAGES.render(request, "desk_sign_in.html", {**values, "error": error}, status_code=429)
        response.headers["Retry-After"] = str(e.retry_after_seconds)
        return response
    response = RedirectResponse(safe_next(next, home_of(member)), status_code=303)
    STAFF_COOKIE.set(response, context.settings, token, int(SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/sign-out")
def sign_out(request: Request, context: Context, session: DbSession) -> Response:
    token = STAFF_COOKIE.read(request)
    if token:  # ending a session needs no proof: at worst a forged form signs someone out
        staff.sign_out(session, token, now())
    response = RedirectResponse("/desk/sign-in?signed_out=1", status_code=303)
    STAFF_COOKIE.clear(response, context.settings)
    return response


# --- the queue ------------------------------------------------------------------------------------------


@router.get("")
def queue(
    request: Request,
    context: Context,
    session: DbSession,
    member: SignedInMember,
    status: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The desk's applications, most urgent (earliest due) first; pending ones unless a
    status is chosen; or those matching a search (number, mobile number or name)."""
    if home_of(member) != "/desk":  # head office reads pendency; an operator applies
        return RedirectResponse(home_of(member), status_code=303)
    chosen = status if status in QUEUE_STATUSES else ""
    query = " ".join(q.split())
    if query:
        found = applications.staff_search(session, member, query, SEARCH_LIMIT)
    else:
        found = applications.staff_queue(session, member, [chosen] if chosen else list(PENDING), QUEUE_LIMIT)
    language = pick_language(request)
    today = today_in_india()
    clock = context.intake.clock
    return PAGES.render(
        request,
        "desk_queue.html",
        {
            "items": [(ApplicationSummary.of(a, today), days_left(clock, a, today)) for a in found],
            "q": query,
            "status": chosen,
            "statuses": QUEUE_STATUSES,
            "services": service_names(context.intake, language),
            "offices": office_names(context.intake, language),
            "limit": SEARCH_LIMIT if query else QUEUE_LIMIT,
        },
    )


# --- one application ---------------------------------------------------------------------------------------


def _application_page(
    request: Request,
    context: IntakeContext,
    session: Session,
    member: StaffMember,
    application: Application,
    *,
    action: str = "",
    remarks: str = "",
    remarks_error: str | None = None,
    marked: Sequence[str] = (),
    officer_answers: Mapping[str, str] | None = None,
    officer_errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    template: str = "desk_application.html",
) -> Response:
    language = pick_language(request)
    service = context.intake.catalogue.get(application.service_code)
    decidable = application.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)
    done = request.query_params.get("done", "")
    attachments = attachments_of(session, application)
    response = PAGES.render(
        request,
        template,
        {
            "application": application,
            "summary": ApplicationSummary.of(application, today_in_india()),
            "days_left": days_left(context.intake.clock, application, today_in_india()),
            "service": service,
            "service_name": service_names(context.intake, language).get(
                application.service_code, application.service_code
            ),
            "office_name": office_names(context.intake, language).get(application.office_code, application.office_code),
            "answers": answers_list(service, application.form, language),
            "attachments": attachments,
            "attachment_labels": attachment_labels(service, language),
            "steps": timeline(session, application, language, service, staff=True),
            "marks": _marks(service, application, attachments, language, marked),
            "officer_fields": field_views(
                service.officer_fields if service else (),
                language,
                officer_answers or {},
                Rejection(status_code, by_field=dict(officer_errors or {})),
            ),
            "can_decide": member.role in DECIDERS and decidable,
            "can_review": member.role in DECIDERS and application.status == ApplicationStatus.SUBMITTED,
            "verify_url": context.kit.verify_url(application.document_id) if application.document_id else None,
            "action": action,
            "remarks": remarks,
            "remarks_error": remarks_error,
            "done": done if done in ACTIONS else None,
        },
        status_code=status_code,
    )
    # The attachments' previews are frames of our own answers (views_parts.INLINE_POLICY).
    response.headers["Content-Security-Policy"] = f"{PAGE_CSP}; frame-src 'self'"
    return response


@dataclass(frozen=True)
class Mark:
    """One checkbox of the return form: a field to correct or a document to upload."""

    name: str
    """``field.<name>`` or ``attachment.<kind>``, as the form posts it."""
    input_id: str
    label: str
    now: str
    """The current answer, or the file sent (or that none was)."""
    checked: bool


def _marks(
    service: ServiceSpec | None,
    application: Application,
    attachments: Sequence[Attachment],
    language: str,
    marked: Sequence[str],
) -> dict[str, list[Mark]]:
    """What a return can ask for: every field of the form with its answer, and every
    document the service declares, sent or not."""
    if service is None:
        return {"fields": [], "attachments": []}
    t = MESSAGES.translator(language)
    sent = {a.kind: a for a in attachments if a.replaced_at is None}
    fields = [
        Mark(
            f"{MARK_FIELD}{f.name}",
            f"mark-field-{f.name}",
            localized(f.label, language),
            answer_text(f, application.form[f.name], language) if f.name in application.form else t("step.not_given"),
            f"{MARK_FIELD}{f.name}" in marked,
        )
        for f in service.fields
    ]
    documents = [
        Mark(
            f"{MARK_ATTACHMENT}{a.kind}",
            f"mark-attachment-{a.kind}",
            localized(a.label, language),
            sent[a.kind].filename if a.kind in sent else t("desk.not_uploaded"),
            f"{MARK_ATTACHMENT}{a.kind}" in marked,
        )
        for a in service.attachments
    ]
    return {"fields": fields, "attachments": documents}


@router.get("/applications/{number}")
def application_detail(
    number: str, request: Request, context: Context, session: DbSession, member: SignedInMember
) -> Response:
    application = applications.for_staff(session, member, number)
    return _application_page(request, context, session, member, application)


@router.get("/applications/{number}/approve")
def approval_check(
    number: str, request: Request, context: Context, session: DbSession, member: SignedInMember
) -> Response:
    """Check before approving: everything the certificate will say, every document, and
    one button that approves and issues. An application no longer open for a decision
    shows its own page instead."""
    application = applications.for_staff(session, member, number)
    if member.role not in DECIDERS or application.status not in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.UNDER_REVIEW,
    ):
        return RedirectResponse(_page_of(number), status_code=303)
    return _application_page(request, context, session, member, application, template="desk_approve.html")


@router.get("/applications/{number}/attachments/{attachment_id}")
def application_attachment(
    number: str,
    attachment_id: str,
    context: Context,
    session: DbSession,
    member: SignedInMember,
    view: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """The document, as a download; ``?view=inline`` for the preview in the desk's page."""
    application = applications.for_staff(session, member, number)
    attachment = attachment_or_404(session, application, attachment_id)
    return attachment_response(context.store, attachment, inline=view == "inline")


async def posted_officer_values(request: Request) -> dict[str, str]:
    """The officer fields of the approval form (``field.<name>``). Their names are the
    service's, not known to the route, so the (already parsed) form is read whole."""
    body = await request.form()
    return {
        key.removeprefix(FIELD_PREFIX): value
        for key, value in body.multi_items()
        if key.startswith(FIELD_PREFIX) and isinstance(value, str)
    }


@router.post("/applications/{number}/decisions")
def decide(
    number: str,
    request: Request,
    context: Context,
    session: DbSession,
    member: DecisionForm,
    officer: Annotated[dict[str, str], Depends(posted_officer_values)],
    action: Annotated[str, Form(max_length=16)] = "",
    remarks: Annotated[str, Form(max_length=2000)] = "",
    version: Annotated[int | None, Form()] = None,
    mark: Annotated[list[str] | None, Form(max_length=MAX_MARKS)] = None,
) -> Response:
    """Take up, approve, reject (with the reason) or return (with what is missing, and
    ticked: the fields to correct and the documents to upload). The page sends the version
    it showed: if someone decided in between, this one is refused (409)."""
    t = PAGES.translator(request)
    if action not in ACTIONS:
        return PAGES.error_page(request, t("error.invalid_input"), 422, back=_page_of(number))
    marked = mark or []
    try:
        applications.decide(
            session,
            context.intake,
            member,
            number,
            action=action,
            remarks=remarks,
            version=version,
            fields=[m.removeprefix(MARK_FIELD) for m in marked if m.startswith(MARK_FIELD)],
            attachments=[m.removeprefix(MARK_ATTACHMENT) for m in marked if m.startswith(MARK_ATTACHMENT)],
            officer_values=officer if action == "approve" else None,
            language=pick_language(request),
            now=now(),
        )
    except Conflict:
        return PAGES.error_page(
            request, t("desk.conflict"), 409, heading=t("desk.conflict_title"), back=_page_of(number)
        )
    except InvalidInput as e:
        application = applications.for_staff(session, member, number)
        service = context.intake.catalogue.get(application.service_code)
        officer_names = {f.name for f in service.officer_fields} if service else set()
        if action == "approve" and all(problem.field in officer_names for problem in e.errors):
            return _application_page(
                request,
                context,
                session,
                member,
                application,
                officer_answers=officer,
                officer_errors={problem.field: problem.message for problem in e.errors},
                status_code=e.status_code,
                template="desk_approve.html",
            )
        if action not in NEEDS_REMARKS or any(problem.field != "remarks" for problem in e.errors):
            raise  # only a forged form names what the service does not declare
        return _application_page(
            request,
            context,
            session,
            member,
            application,
            action=action,
            remarks=remarks,
            remarks_error=t(f"desk.remarks_required.{action}"),
            marked=marked,
            status_code=e.status_code,
        )
    return RedirectResponse(f"{_page_of(number)}?done={action}", status_code=303)
