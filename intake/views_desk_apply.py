"""The Sewa Kendra counter: an operator applies on a citizen's behalf with the same
generated form, plus the citizen's mobile number and the channel."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from intake import applications, repository
from intake.applications import Applicant
from intake.catalogue import ServiceSpec
from intake.dependencies import Context
from intake.forms import validate_form
from intake.i18n import pick_language, translator
from intake.models import Application, IntakeChannel, StaffRole
from intake.staff import StaffMember
from intake.views_common import PageRoute, desk_member, desk_sign_in_redirect, form_expired, render
from intake.views_parts import (
    Posted,
    PostedForm,
    Rejection,
    answers_of,
    department_names,
    explain,
    form_values,
    receipt_context,
    service_or_404,
    submit_posted,
)
from locker.web import csrf_ok
from sanad.dependencies import DbSession
from sanad.errors import Forbidden, InvalidInput, NotFound
from sanad.mobile import normalize_mobile

router = APIRouter(prefix="/desk", include_in_schema=False, route_class=PageRoute)

CHANNELS = (IntakeChannel.SEWA_KENDRA, IntakeChannel.DOORSTEP)


def _operator(request: Request, session: Session) -> StaffMember | None:
    member = desk_member(request, session)
    if member is not None and member.role != StaffRole.OPERATOR:
        raise Forbidden("only a Sewa Kendra operator applies for citizens")
    return member


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
def counter(request: Request, context: Context, session: DbSession) -> Response:
    """The services an operator can apply for, by department."""
    if _operator(request, session) is None:
        return desk_sign_in_redirect(request)
    names = department_names(session, pick_language(request))
    catalogue = context.intake.catalogue
    groups = [
        {"code": code, "name": names.get(code, code), "services": catalogue.by_department(code)}
        for code in sorted({service.department for service in catalogue})
    ]
    return render(request, "catalogue.html", {"groups": groups, "apply_base": "/desk/apply"})


@router.get("/apply/{service_code}")
def operator_form(service_code: str, request: Request, context: Context, session: DbSession) -> Response:
    if _operator(request, session) is None:
        return desk_sign_in_redirect(request)
    service = service_or_404(context.intake, service_code)
    values = form_values(context.intake, service, pick_language(request), answers={}, office="")
    return render(request, "apply_form.html", {**values, **_operator_values(None, None), "action": _form_path(service)})


@router.post("/apply/{service_code}")
def operator_submit(
    service_code: str, request: Request, context: Context, session: DbSession, posted: Posted
) -> Response:
    member = _operator(request, session)
    service = service_or_404(context.intake, service_code)
    if member is None:
        return desk_sign_in_redirect(request, _form_path(service))
    if not csrf_ok(request, posted.get("csrf")):
        return form_expired(request, back=_form_path(service))
    language = pick_language(request)
    t = translator(language)
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
        return render(
            request,
            "apply_form.html",
            {**values, **_operator_values(posted, outcome), "action": _form_path(service)},
            status_code=outcome.status_code,
        )
    return RedirectResponse(f"/desk/receipts/{quote(outcome.number, safe='')}", status_code=303)


@router.get("/receipts/{number}")
def operator_receipt(number: str, request: Request, context: Context, session: DbSession) -> Response:
    """The receipt to hand the citizen: for the operator who filed it (and the office's staff)."""
    member = desk_member(request, session)
    if member is None:
        return desk_sign_in_redirect(request)
    application = repository.by_number(session, number) if len(number) <= 40 else None
    if application is None or not (
        application.operator_id == member.id or applications.visible_to_staff(application, member)
    ):
        raise NotFound("no such application")
    page = receipt_context(session, context.intake, application, pick_language(request))
    page["detail_href"] = None
    page["again_href"] = f"/desk/apply/{quote(application.service_code, safe='')}"
    return render(request, "receipt.html", page)
