"""The Sewa Kendra counter: an operator applies on a citizen's behalf with the same
generated form, plus the citizen's mobile number and the channel."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from accounts.models import StaffRole
from accounts.staff import StaffMember
from intake import applications, repository
from intake.applications import Applicant
from intake.catalogue import ServiceSpec
from intake.dependencies import Context
from intake.forms import validate_form
from intake.models import Application, IntakeChannel
from intake.views_common import PAGES, MaybeMember, SignedInMember
from intake.views_parts import (
    Posted,
    PostedForm,
    Rejection,
    answers_of,
    department_names,
    explain,
    form_values,
    posted_csrf,
    receipt_context,
    service_or_404,
    submit_posted,
)
from sanad.dependencies import DbSession
from sanad.errors import Forbidden, InvalidInput, NotFound
from sanad.mobile import normalize_mobile
from web.guards import SignIn
from web.i18n import pick_language

router = APIRouter(prefix="/desk", include_in_schema=False, route_class=PAGES.route_class)

CHANNELS = (IntakeChannel.SEWA_KENDRA, IntakeChannel.DOORSTEP)


def get_operator(member: MaybeMember) -> StaffMember | None:
    """The signed-in operator; any other role may not use the counter."""
    if member is not None and member.role != StaffRole.OPERATOR:
        raise Forbidden("only a Sewa Kendra operator applies for citizens")
    return member


OPERATOR = SignIn(who=get_operator, page="/desk/sign-in")
Operator = Annotated[StaffMember, Depends(OPERATOR.required())]
OperatorForm = Annotated[StaffMember, Depends(OPERATOR.form(token=posted_csrf))]
"""A service's form at the counter, posted by the signed-in operator."""


def _form_path(service: ServiceSpec) -> str:
    return f"/desk/apply/{quote(service.code, safe='')}"


def _operator_values(posted: PostedForm | None, rejection: Rejection | None) -> dict[str, object]:
    errors = rejection.by_field if rejection else {}
    channel = posted.get("channel") if posted else ""
    return {
        "operator": True,
        "citizen_mobile": posted.get("citizen_mobile") if posted else "",
        "citizen_mobile_error": errors.get("citizen_mobile"),
        "channel": channel if channel in CHANNELS else IntakeChannel.SEWA_KENDRA.value,
        "channels": [c.value for c in CHANNELS],
    }


@router.get("/apply")
def counter(request: Request, context: Context, session: DbSession, operator: Operator) -> Response:
    """The services an operator can apply for, by department."""
    names = department_names(session, pick_language(request))
    catalogue = context.intake.catalogue
    groups = [
        {"code": code, "name": names.get(code, code), "services": catalogue.by_department(code)}
        for code in sorted({service.department for service in catalogue})
    ]
    return PAGES.render(request, "catalogue.html", {"groups": groups, "apply_base": "/desk/apply"})


@router.get("/apply/{service_code}")
def operator_form(service_code: str, request: Request, context: Context, operator: Operator) -> Response:
    service = service_or_404(context.intake, service_code)
    values = form_values(context.intake, service, pick_language(request), answers={}, office="")
    return PAGES.render(
        request, "apply_form.html", {**values, **_operator_values(None, None), "action": _form_path(service)}
    )


@router.post("/apply/{service_code}")
def operator_submit(
    service_code: str, request: Request, context: Context, session: DbSession, posted: Posted, member: OperatorForm
) -> Response:
    service = service_or_404(context.intake, service_code)
    language = pick_language(request)
    t = PAGES.translator(request)
    channel = posted.get("channel") or IntakeChannel.SEWA_KENDRA
    outcome: Application | Rejection
    try:
        mobile = normalize_mobile(posted.get("citizen_mobile"))
    except ValueError:
        # Say everything wrong at once: the citizen's number, and the answers as the service would.
        outcome = Rejection(422, by_field={"citizen_mobile": t("desk.apply.invalid_mobile")})
        try:
            validate_form(service, answers_of(service, posted), language)  # type: ignore[arg-type]
        except InvalidInput as e:
            outcome.by_field.update(explain(e, service, language).by_field)
    else:
        if channel not in CHANNELS:
            outcome = Rejection(422, general=[t("apply.error.form")])
        else:
            applicant = Applicant(mobile=mobile, language=language, channel=IntakeChannel(channel), operator=member)
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
        return PAGES.render(
            request,
            "apply_form.html",
            {**values, **_operator_values(posted, outcome), "action": _form_path(service)},
            status_code=outcome.status_code,
        )
    return RedirectResponse(f"/desk/receipts/{quote(outcome.number, safe='')}", status_code=303)


@router.get("/receipts/{number}")
def operator_receipt(
    number: str, request: Request, context: Context, session: DbSession, member: SignedInMember
) -> Response:
    """The receipt to hand the citizen: for the operator who filed it (and the office's staff)."""
    application = repository.by_number(session, number) if len(number) <= 40 else None
    if application is None or not (
        application.operator_id == member.id or applications.visible_to_staff(application, member)
    ):
        raise NotFound("no such application")
    page = receipt_context(session, context.intake, application, pick_language(request))
    page["detail_href"] = None
    page["again_href"] = f"/desk/apply/{quote(application.service_code, safe='')}"
    return PAGES.render(request, "receipt.html", page)
