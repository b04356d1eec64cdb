"""The citizen's applications: the list, one application with its timeline (and, when it
was returned, the form to answer it: the officer's remarks, the fields they marked,
pre-filled and editable, an upload for each document they marked), its attachments, and
public tracking."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts.models import LockerAccount
from intake import applications, pending_uploads, repository, returns
from intake.attachments import Problem, Refused
from intake.catalogue import ServiceSpec
from intake.dependencies import Context, IntakeContext
from intake.models import Application, ApplicationStatus, Attachment
from intake.schemas import ApplicationSummary
from intake.views_common import CITIZEN, PAGES, MaybeCitizen, SignedInCitizen, now
from intake.views_history import timeline
from intake.views_parts import (
    FIELD_PREFIX,
    Posted,
    Rejection,
    answers_list,
    attachment_labels,
    attachment_or_404,
    attachment_response,
    attachment_views,
    attachments_of,
    error_summary,
    field_views,
    office_names,
    posted_csrf,
    refusal,
    service_names,
    with_kept_files,
)
from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import Conflict, FieldError, NotFound
from web.client import client_ip
from web.csrf import genuine_form
from web.i18n import pick_language

router = APIRouter(include_in_schema=False, route_class=PAGES.route_class)

LIST_LIMIT = 200
DONE_NOTICES = {"resubmitted": "application.resubmitted_notice"}


def _page_of(number: str) -> str:
    return f"/applications/{quote(number, safe='')}"


def _application_page_of(request: Request) -> str:
    return _page_of(request.path_params["number"])


AnswerForm = Annotated[LockerAccount, Depends(CITIZEN.form(back=_application_page_of, token=posted_csrf))]
"""The answer to a return (a multipart form, with files), posted by the citizen on the
page of their application."""
REMARKS_MAX = 2000


@router.get("/applications")
def my_applications(request: Request, context: Context, session: DbSession, holder: SignedInCitizen) -> Response:
    language = pick_language(request)
    today = today_in_india()
    items = [ApplicationSummary.of(a, today) for a in repository.of_mobile(session, holder.mobile, LIST_LIMIT)]
    return PAGES.render(
        request,
        "applications.html",
        {
            "items": items,
            "services": service_names(context.intake, language),
            "offices": office_names(context.intake, language),
        },
    )


def _application_page(
    request: Request,
    context: IntakeContext,
    session: Session,
    application: Application,
    *,
    rejection: Rejection | None = None,
    answers: dict[str, str] | None = None,
    remarks: str = "",
) -> Response:
    language = pick_language(request)
    service = context.intake.catalogue.get(application.service_code)
    steps = timeline(session, application, language, service)
    attachments = attachments_of(session, application)
    values = {
        "application": application,
        "summary": ApplicationSummary.of(application, today_in_india()),
        "service_name": service_names(context.intake, language).get(application.service_code, application.service_code),
        "office_name": office_names(context.intake, language).get(application.office_code, application.office_code),
        "answers": answers_list(service, application.form, language),
        "attachments": attachments,
        "attachment_labels": attachment_labels(service, language),
        "steps": steps,
        "can_resubmit": application.status == ApplicationStatus.RETURNED and service is not None,
        "notice": DONE_NOTICES.get(request.query_params.get("done", "")),
    }
    if values["can_resubmit"] and service is not None:
        marks = returns.marks_of(repository.events_of(session, application.id))
        form = _answer_form(service, application, marks, attachments, language, rejection, answers)
        returned = next((step for step in reversed(steps) if step.kind == "returned"), None)
        values.update(form, returned_remarks=returned.remarks if returned else None, remarks=remarks)
    return PAGES.render(request, "application.html", values, status_code=rejection.status_code if rejection else 200)


def _answer_form(
    service: ServiceSpec,
    application: Application,
    marks: returns.ReturnMarks,
    attachments: list[Attachment],
    language: str,
    rejection: Rejection | None,
    answers: dict[str, str] | None,
) -> dict[str, object]:
    """The form that answers a return: only what the officer marked, pre-filled with
    the current answers (or what was just typed), and an upload for each marked document."""
    current = {name: "" if value is None else str(value) for name, value in application.form.items()}
    fields = field_views(
        [f for f in service.fields if f.name in marks.fields],
        language,
        current if answers is None else answers,
        rejection,
    )
    documents = attachment_views(
        [a for a in service.attachments if a.kind in marks.attachments],
        language,
        rejection,
        required=marks.attachments,
        sent={a.kind: a for a in attachments if a.replaced_at is None},
    )
    targets = [
        *((f.name, f.input_id) for f in fields),
        *((a.input_name, a.input_id) for a in documents),
        ("remarks", "remarks"),
    ]
    return {
        "marked_fields": fields,
        "marked_attachments": documents,
        "remarks_required": not marks,
        "remarks_error": rejection.by_field.get("remarks") if rejection else None,
        "rejection": rejection,
        "problems": error_summary(rejection, targets),
    }


@router.get("/applications/{number}")
def application_detail(
    number: str, request: Request, context: Context, session: DbSession, holder: SignedInCitizen
) -> Response:
    application = applications.for_citizen(session, holder.mobile, number)
    return _application_page(request, context, session, application)


@router.get("/applications/{number}/attachments/{attachment_id}")
def application_attachment(
    number: str, attachment_id: str, context: Context, session: DbSession, holder: SignedInCitizen
) -> Response:
    application = applications.for_citizen(session, holder.mobile, number)
    attachment = attachment_or_404(session, application, attachment_id)
    return attachment_response(context.store, attachment)


@router.post("/applications/{number}/resubmit")
def resubmit(
    number: str, request: Request, context: Context, session: DbSession, posted: Posted, holder: AnswerForm
) -> Response:
    """Answer a return: the corrected answers, the documents asked for, remarks. A refusal
    shows the page again with every problem, what was typed, and the valid files kept."""
    application = applications.for_citizen(session, holder.mobile, number)
    service = context.intake.catalogue.get(application.service_code)
    if service is None or application.status != ApplicationStatus.RETURNED:
        raise Conflict("only an application returned to you can be resubmitted")
    t = PAGES.translator(request)
    language = pick_language(request)
    marks = returns.marks_of(repository.events_of(session, application.id))
    answers = {name: posted.get(FIELD_PREFIX + name) for name in marks.fields}
    remarks = posted.get("remarks")
    owner = pending_uploads.citizen_owner(holder.mobile)
    try:
        if len(remarks) > REMARKS_MAX:
            raise Refused([Problem(FieldError("remarks", t("application.remarks_too_long", max=REMARKS_MAX)))])
        if not marks and not remarks.strip():
            # A return that marked nothing is answered in words.
            raise Refused([Problem(FieldError("remarks", t("application.remarks_required")))])
        applications.resubmit(
            session,
            context.intake,
            holder.mobile,
            number,
            answers=answers,
            files=with_kept_files(session, context.intake, owner, service, posted),
            remarks=remarks,
            language=language,
            now=now(),
        )
    except Refused as e:
        rejection = refusal(session, context.intake, owner, service, e, language)
        return _application_page(
            request, context, session, application, rejection=rejection, answers=answers, remarks=remarks
        )
    return RedirectResponse(f"{_page_of(application.number)}?done=resubmitted", status_code=303)


# --- tracking without signing in -------------------------------------------------------------------------


@router.get("/track")
def track_form(request: Request, citizen: MaybeCitizen, number: Annotated[str, Query(max_length=40)] = "") -> Response:
    return PAGES.render(request, "track.html", {"number": number, "mobile": ""})


@router.post("/track")
def track(
    request: Request,
    context: Context,
    session: DbSession,
    citizen: MaybeCitizen,
    _: Annotated[None, Depends(genuine_form(back="/track"))],
    number: Annotated[str, Form(max_length=100)] = "",
    mobile: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """The number and the mobile number given when applying must both match; any other
    answer is one and the same 404, so the page reveals nothing about either."""
    language = pick_language(request)
    values = {"number": number, "mobile": mobile}
    try:
        application = applications.track(session, number, mobile, client_ip(request), now())
    except NotFound:
        t = PAGES.translator(request)
        return PAGES.render(request, "track.html", {**values, "error": t("track.not_found")}, status_code=404)
    return PAGES.render(
        request,
        "track.html",
        {
            **values,
            "application": application,
            "summary": ApplicationSummary.of(application, today_in_india()),
            "service_name": service_names(context.intake, language).get(
                application.service_code, application.service_code
            ),
            "office_name": office_names(context.intake, language).get(application.office_code, application.office_code),
            "steps": timeline(session, application, language, context.intake.catalogue.get(application.service_code)),
        },
    )
