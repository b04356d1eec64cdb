"""The citizen's applications: the list, one application with its timeline (and, when it
was returned, the form to answer), its attachments, and public tracking."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts.models import LockerAccount
from intake import applications, repository
from intake.dependencies import Context, IntakeContext
from intake.models import Application, ApplicationStatus
from intake.schemas import ApplicationSummary
from intake.views_common import CITIZEN, PAGES, MaybeCitizen, SignedInCitizen, now
from intake.views_parts import (
    answers_list,
    attachment_labels,
    attachment_or_404,
    attachment_response,
    attachments_of,
    office_names,
    service_names,
    timeline,
)
from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import NotFound
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


ApplicationForm = Annotated[LockerAccount, Depends(CITIZEN.form(back=_application_page_of))]
"""A form on the page of one of the citizen's applications, posted by them."""


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
    remarks_error: str | None = None,
    remarks: str = "",
    status_code: int = 200,
) -> Response:
    language = pick_language(request)
    service = context.intake.catalogue.get(application.service_code)
    steps = timeline(session, application, language)
    return PAGES.render(
        request,
        "application.html",
        {
            "application": application,
            "summary": ApplicationSummary.of(application, today_in_india()),
            "service_name": service_names(context.intake, language).get(
                application.service_code, application.service_code
            ),
            "office_name": office_names(context.intake, language).get(application.office_code, application.office_code),
            "answers": answers_list(service, application.form, language),
            "attachments": attachments_of(session, application),
            "attachment_labels": attachment_labels(service, language),
            "steps": steps,
            "can_resubmit": application.status == ApplicationStatus.RETURNED,
            "returned_remarks": next((step.remarks for step in reversed(steps) if step.kind == "returned"), None),
            "remarks_error": remarks_error,
            "remarks": remarks,
            "notice": DONE_NOTICES.get(request.query_params.get("done", "")),
        },
        status_code=status_code,
    )


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
    number: str,
    request: Request,
    context: Context,
    session: DbSession,
    holder: ApplicationForm,
    remarks: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Answer a return: the clock resumes and the due date moves out by the paused days."""
    application = applications.for_citizen(session, holder.mobile, number)
    if not remarks.strip():
        t = PAGES.translator(request)
        return _application_page(
            request, context, session, application, remarks_error=t("application.remarks_required"), status_code=422
        )
    applications.resubmit(session, context.intake, holder.mobile, number, form=None, remarks=remarks, now=now())
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
            "steps": timeline(session, application, language),
        },
    )
