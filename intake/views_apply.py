"""The citizen applies: the catalogue, the form generated from a service's catalogue entry,
and the receipt."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from accounts.models import LockerAccount
from intake import applications
from intake.applications import Applicant
from intake.catalogue import ServiceSpec
from intake.dependencies import Context
from intake.models import IntakeChannel
from intake.printing import printable
from intake.views_common import CITIZEN, PAGES, MaybeCitizen, SignedInCitizen
from intake.views_parts import (
    Posted,
    Rejection,
    department_names,
    form_values,
    posted_csrf,
    posted_form_values,
    receipt_context,
    service_or_404,
    submit_posted,
)
from sanad.dependencies import DbSession
from web.i18n import pick_language

router = APIRouter(include_in_schema=False, route_class=PAGES.route_class)

ApplyForm = Annotated[LockerAccount, Depends(CITIZEN.form(token=posted_csrf))]
"""A service's application form, posted by the signed-in citizen (sign-in returns to the form)."""


def _form_path(service: ServiceSpec) -> str:
    return f"/apply/{quote(service.code, safe='')}"


@router.get("/apply")
def catalogue_page(request: Request, context: Context, session: DbSession, citizen: MaybeCitizen) -> Response:
    """Every service, by department: anyone may look; applying needs the locker's sign-in."""
    language = pick_language(request)
    names = department_names(session, language)
    catalogue = context.intake.catalogue
    groups = [
        {"code": code, "name": names.get(code, code), "services": catalogue.by_department(code)}
        for code in sorted({service.department for service in catalogue})
    ]
    return PAGES.render(request, "catalogue.html", {"groups": groups, "apply_base": "/apply"})


@router.get("/apply/{service_code}")
def application_form(service_code: str, request: Request, context: Context, holder: SignedInCitizen) -> Response:
    service = service_or_404(context.intake, service_code)
    # The number the citizen signed in with is the likeliest answer to "mobile number".
    answers = {spec.name: holder.mobile for spec in service.fields if spec.type == "mobile"}
    values = form_values(context.intake, service, pick_language(request), answers=answers, office="")
    return PAGES.render(request, "apply_form.html", {**values, "action": _form_path(service)})


@router.post("/apply/{service_code}")
def submit_application(
    service_code: str, request: Request, context: Context, session: DbSession, posted: Posted, holder: ApplyForm
) -> Response:
    service = service_or_404(context.intake, service_code)
    language = pick_language(request)
    applicant = Applicant(mobile=holder.mobile, language=language, channel=IntakeChannel.ONLINE)
    outcome = submit_posted(session, context.intake, service, applicant, posted)
    if isinstance(outcome, Rejection):
        values = posted_form_values(context.intake, service, language, posted, outcome)
        return PAGES.render(
            request, "apply_form.html", {**values, "action": _form_path(service)}, status_code=outcome.status_code
        )
    # Post/redirect/get: a reload of the receipt never applies twice.
    return RedirectResponse(f"/applications/{quote(outcome.number, safe='')}/receipt", status_code=303)


@router.get("/applications/{number}/receipt")
def receipt(number: str, request: Request, context: Context, session: DbSession, holder: SignedInCitizen) -> Response:
    application = applications.for_citizen(session, holder.mobile, number)
    page = receipt_context(session, context.intake, application, pick_language(request))
    page["detail_href"] = f"/applications/{quote(application.number, safe='')}"
    return printable(PAGES.render(request, "receipt.html", page))
