"""The citizen applies: the catalogue, the form generated from a service's catalogue entry,
and the receipt."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from intake import applications
from intake.applications import Applicant
from intake.catalogue import ServiceSpec
from intake.dependencies import Context
from intake.i18n import pick_language
from intake.models import IntakeChannel
from intake.views_common import PageRoute, citizen, form_expired, render
from intake.views_parts import (
    Posted,
    Rejection,
    answers_of,
    department_names,
    form_values,
    receipt_context,
    service_or_404,
    submit_posted,
)
from locker.web import csrf_ok, sign_in_redirect
from sanad.dependencies import DbSession

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _form_path(service: ServiceSpec) -> str:
    return f"/apply/{quote(service.code, safe='')}"


@router.get("/apply")
def catalogue_page(request: Request, context: Context, session: DbSession) -> Response:
    """Every service, by department: anyone may look; applying needs the locker's sign-in."""
    citizen(request, session)
    language = pick_language(request)
    names = department_names(session, language)
    catalogue = context.intake.catalogue
    groups = [
        {"code": code, "name": names.get(code, code), "services": catalogue.by_department(code)}
        for code in sorted({service.department for service in catalogue})
    ]
    return render(request, "catalogue.html", {"groups": groups, "apply_base": "/apply"})


@router.get("/apply/{service_code}")
def application_form(service_code: str, request: Request, context: Context, session: DbSession) -> Response:
    holder = citizen(request, session)
    service = service_or_404(context.intake, service_code)
    if holder is None:
        return sign_in_redirect(request)
    # The number the citizen signed in with is the likeliest answer to "mobile number".
    answers = {spec.name: holder.mobile for spec in service.fields if spec.type == "mobile"}
    values = form_values(context.intake, service, pick_language(request), answers=answers, office="")
    return render(request, "apply_form.html", {**values, "action": _form_path(service)})


@router.post("/apply/{service_code}")
def submit_application(
    service_code: str, request: Request, context: Context, session: DbSession, posted: Posted
) -> Response:
    holder = citizen(request, session)
    service = service_or_404(context.intake, service_code)
    if holder is None:
        return sign_in_redirect(request, _form_path(service))
    if not csrf_ok(request, posted.get("csrf")):
        return form_expired(request, back=_form_path(service))
    language = pick_language(request)
    applicant = Applicant(mobile=holder.mobile, language=language, channel=IntakeChannel.ONLINE)
    outcome = submit_posted(session, context.intake, service, applicant, posted)
    if isinstance(outcome, Rejection):
        values = form_values(
            context.intake,
            service,
            language,
            answers=answers_of(service, posted),
            office=posted.get("office"),
            rejection=outcome,
        )
        return render(
            request, "apply_form.html", {**values, "action": _form_path(service)}, status_code=outcome.status_code
        )
    # Post/redirect/get: a reload of the receipt never applies twice.
    return RedirectResponse(f"/applications/{quote(outcome.number, safe='')}/receipt", status_code=303)


@router.get("/applications/{number}/receipt")
def receipt(number: str, request: Request, context: Context, session: DbSession) -> Response:
    holder = citizen(request, session)
    if holder is None:
        return sign_in_redirect(request)
    application = applications.for_citizen(session, holder.mobile, number)
    page = receipt_context(session, context.intake, application, pick_language(request))
    page["detail_href"] = f"/applications/{quote(application.number, safe='')}"
    return render(request, "receipt.html", page)
