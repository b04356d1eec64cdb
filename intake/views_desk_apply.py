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
from intake.dependencies import Context, IntakeContext
from intake.exceptions import DuplicateApplication
from intake.forms import validate_form
from intake.models import Application, IntakeChannel
from intake.printing import printable
from intake.views_common import PAGES, MaybeMember, SignedInMember, now
from intake.views_parts import (
    FIELD_PREFIX,
    KEPT_PREFIX,
    Checked,
    Posted,
    PostedForm,
    Rejection,
    answers_list,
    answers_of,
    attachment_labels,
    check_posted,
    department_names,
    explain,
    form_values,
    office_names,
    posted_csrf,
    posted_form_values,
    receipt_context,
    service_or_404,
    submit_posted,
)
from sanad.dependencies import DbSession
from sanad.errors import Forbidden, InvalidInput, NotFound
from sanad.i18n import LANGUAGE_NAMES, LANGUAGES
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


def _citizen_language(posted: PostedForm | None, default: str) -> str:
    chosen = posted.get("citizen_language") if posted else ""
    return chosen if chosen in LANGUAGES else default


def _operator_values(posted: PostedForm | None, rejection: Rejection | None, language: str) -> dict[str, object]:
    errors = rejection.by_field if rejection else {}
    channel = posted.get("channel") if posted else ""
    return {
        "operator": True,
        "citizen_mobile": posted.get("citizen_mobile") if posted else "",
        "citizen_mobile_error": errors.get("citizen_mobile"),
        "channel": channel if channel in CHANNELS else IntakeChannel.SEWA_KENDRA.value,
        "channels": [c.value for c in CHANNELS],
        "citizen_language": _citizen_language(posted, language),
        "citizen_languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    }


def _one_mobile_box(values: dict[str, object]) -> dict[str, object]:
    """The form without its own mobile questions: at the counter the citizen's number is
    asked once, above the form, and answers them (two boxes could disagree)."""
    fields = values["fields"]
    assert isinstance(fields, list)
    return {**values, "fields": [f for f in fields if f.type != "mobile"]}


def _citizen_mobile_only(service: ServiceSpec, posted: PostedForm) -> PostedForm:
    """The posted form without answers to its mobile questions, which the citizen's
    number answers (:func:`intake.applications.with_counter_mobile`)."""
    mobile_answers = {FIELD_PREFIX + spec.name for spec in service.fields if spec.type == "mobile"}
    kept = {name: value for name, value in posted.fields.items() if name not in mobile_answers}
    return PostedForm(kept, posted.files)


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
    language = pick_language(request)
    values = _one_mobile_box(form_values(context.intake, service, language, answers={}, office=""))
    return PAGES.render(
        request, "apply_form.html", {**values, **_operator_values(None, None, language), "action": _form_path(service)}
    )


CONFIRM_DUPLICATE = "confirm_duplicate"
"""The check page's box: the citizen wants another application although an identical one
was filed lately (posted as ``yes``)."""

STEP_CHECK, STEP_CHANGE, STEP_SUBMIT = "check", "change", "submit"
"""The counter's steps: the form is checked and shown back (``check``); the operator goes
back to it (``change``) or submits what was shown (``submit``)."""


@router.post("/apply/{service_code}")
def operator_submit(
    service_code: str, request: Request, context: Context, session: DbSession, posted: Posted, member: OperatorForm
) -> Response:
    """The counter's form. Nothing is filed until the operator has read the answers back
    to the citizen: a valid form comes back as a page to check, its files kept, and only
    that page's button files it."""
    service = service_or_404(context.intake, service_code)
    posted = _citizen_mobile_only(service, posted)
    language = pick_language(request)
    t = PAGES.translator(request)
    step = posted.get("step") or STEP_CHECK
    channel = posted.get("channel") or IntakeChannel.SEWA_KENDRA
    outcome: Application | Rejection | None = None
    try:
        mobile = normalize_mobile(posted.get("citizen_mobile"))
    except ValueError:
        # Say everything wrong at once: the citizen's number, and the answers as the service would
        # (but for the form's mobile questions, which are that number).
        outcome = Rejection(422, by_field={"citizen_mobile": t("desk.apply.invalid_mobile")})
        try:
            validate_form(service, answers_of(service, posted), language)  # type: ignore[arg-type]
        except InvalidInput as e:
            mobile_questions = {spec.name for spec in service.fields if spec.type == "mobile"}
            problems = explain(e, service, language).by_field
            outcome.by_field.update((k, v) for k, v in problems.items() if k not in mobile_questions)
    else:
        if channel not in CHANNELS:
            outcome = Rejection(422, general=[t("apply.error.form")])
    if outcome is None:
        applicant = Applicant(
            mobile=mobile,
            language=language,
            channel=IntakeChannel(channel),
            operator=member,
            notice_language=_citizen_language(posted, language),
        )
        confirmed = posted.get(CONFIRM_DUPLICATE) == "yes"
        unconfirmed_duplicate = False
        if step == STEP_SUBMIT:
            try:
                outcome = submit_posted(
                    session, context.intake, service, applicant, posted, confirm_duplicate=confirmed
                )
            except DuplicateApplication:
                # Filed meanwhile, or the box left unticked: back to the check, which says so.
                unconfirmed_duplicate = True
        if outcome is None:
            checked = check_posted(session, context.intake, service, applicant, posted)
            if isinstance(checked, Rejection):
                outcome = checked
            elif step == STEP_CHANGE:
                return _form_page(request, context, service, posted, checked.as_kept(), status_code=200)
            else:
                duplicate = applications.duplicate_of(session, context.intake, service, mobile, checked.cleaned, now())
                return _check_page(
                    request,
                    context,
                    service,
                    posted,
                    mobile,
                    checked,
                    duplicate=duplicate,
                    must_confirm=unconfirmed_duplicate and duplicate is not None,
                )
    if isinstance(outcome, Rejection):
        return _form_page(request, context, service, posted, outcome, status_code=outcome.status_code)
    return RedirectResponse(f"/desk/receipts/{quote(outcome.number, safe='')}", status_code=303)


def _form_page(
    request: Request,
    context: IntakeContext,
    service: ServiceSpec,
    posted: PostedForm,
    rejection: Rejection,
    *,
    status_code: int,
) -> Response:
    """The form again, with what was typed and the files kept: with the problems, or
    (going back from the check) as it was."""
    language = pick_language(request)
    values = _one_mobile_box(posted_form_values(context.intake, service, language, posted, rejection))
    return PAGES.render(
        request,
        "apply_form.html",
        {**values, **_operator_values(posted, rejection, language), "action": _form_path(service)},
        status_code=status_code,
    )


def _check_page(
    request: Request,
    context: IntakeContext,
    service: ServiceSpec,
    posted: PostedForm,
    mobile: str,
    checked: Checked,
    *,
    duplicate: Application | None,
    must_confirm: bool,
) -> Response:
    """Check your answers: everything as it will be filed, and the form's values again
    in hidden fields (the files as kept tokens), to submit or to change. An identical
    application filed lately is shown above them, with a box to tick to file anyway;
    submitting without ticking it comes back here (409)."""
    language = pick_language(request)
    citizen_language = _citizen_language(posted, language)
    return printable(
        PAGES.render(
            request,
            "desk_check.html",
            {
                "duplicate": duplicate,
                "duplicate_href": f"/desk/receipts/{quote(duplicate.number, safe='')}" if duplicate else None,
                "must_confirm": must_confirm,
                "confirm_name": CONFIRM_DUPLICATE,
                "service": service,
                "action": _form_path(service),
                "answers": answers_list(service, checked.cleaned, language),
                "files": checked.kept,
                "attachment_labels": attachment_labels(service, language),
                "office_name": office_names(context.intake, language).get(posted.get("office"), posted.get("office")),
                "citizen_mobile": mobile,
                "channel": posted.get("channel") or IntakeChannel.SEWA_KENDRA.value,
                "citizen_language_name": LANGUAGE_NAMES[citizen_language],
                "hidden": {
                    "citizen_mobile": mobile,
                    "channel": posted.get("channel") or IntakeChannel.SEWA_KENDRA.value,
                    "citizen_language": citizen_language,
                    "office": posted.get("office"),
                    **{FIELD_PREFIX + name: value for name, value in answers_of(service, posted).items()},
                    **{KEPT_PREFIX + kept.kind: kept.token for kept in checked.kept},
                },
            },
            status_code=409 if must_confirm else 200,
        )
    )


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
    return printable(PAGES.render(request, "receipt.html", page))
