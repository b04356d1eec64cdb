"""The pages of appeals: the citizen's (where an application's appeals stand, and the form
that files the next one, or the reason there is none) and the appellate authority's desk
(the appeals before them with the working days left, and the decision on one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts.models import LockerAccount
from accounts.staff import StaffMember
from intake import appeals, appeals_repository, applications
from intake.appeals_models import Appeal, AppealStatus
from intake.dependencies import Context, IntakeContext
from intake.models import Application
from intake.schemas import ApplicationSummary
from intake.views_common import CITIZEN, DESK, PAGES, SignedInCitizen, SignedInMember, now
from intake.views_desk import posted_officer_values
from intake.views_history import timeline
from intake.views_parts import Rejection, field_views, office_names, service_names, working_days_left
from intake.working_days import LegalClock
from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import Conflict, FieldError, InvalidInput
from web.i18n import pick_language

router = APIRouter(include_in_schema=False, route_class=PAGES.route_class)

DESK_LIMIT = 200
DONE = ("dismiss", "allow")

CitizenForm = Annotated[LockerAccount, Depends(CITIZEN.form())]
AuthorityForm = Annotated[StaffMember, Depends(DESK.form())]


@dataclass(frozen=True)
class AppealView:
    appeal: Appeal
    days_left: int | None
    """Working days the authority has left (negative: late); None once decided."""


def _view(clock: LegalClock, appeal: Appeal, today: date) -> AppealView:
    pending = appeal.status == AppealStatus.PENDING
    return AppealView(appeal, working_days_left(clock, appeal.due_on, today) if pending else None)


def _citizen_page_of(number: str) -> str:
    return f"/applications/{quote(number, safe='')}/appeal"


def _desk_page_of(number: str, level: int) -> str:
    return f"/desk/appeals/{quote(number, safe='')}/{level}"


# --- the citizen's page ---------------------------------------------------------------------------


def _citizen_page(
    request: Request,
    context: IntakeContext,
    session: Session,
    application: Application,
    *,
    grounds: str = "",
    error: str | None = None,
    grounds_error: str | None = None,
    status_code: int = 200,
) -> Response:
    language = pick_language(request)
    today = today_in_india()
    kit = context.intake
    return PAGES.render(
        request,
        "appeal.html",
        {
            "application": application,
            "summary": ApplicationSummary.of(application, today),
            "service_name": service_names(kit, language).get(application.service_code, application.service_code),
            "appeals": [_view(kit.clock, a, today) for a in appeals_repository.of_application(session, application.id)],
            "standing": appeals.standing(session, kit, application, now(), language),
            "filing_days": kit.appeals.filing_days,
            "grounds": grounds,
            "error": error,
            "grounds_error": grounds_error,
            "grounds_max": appeals.TEXT_MAX,
            "notice": "appeal.filed_notice" if request.query_params.get("done") == "filed" else None,
        },
        status_code=status_code,
    )


@router.get("/applications/{number}/appeal")
def appeal_page(
    number: str, request: Request, context: Context, session: DbSession, holder: SignedInCitizen
) -> Response:
    application = applications.for_citizen(session, holder.mobile, number)
    return _citizen_page(request, context, session, application)


@router.post("/applications/{number}/appeal")
def file_appeal(
    number: str,
    request: Request,
    context: Context,
    session: DbSession,
    holder: CitizenForm,
    grounds: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """File the appeal the citizen may file now; a refusal (out of time, nothing to appeal,
    no grounds) shows the page again, worded in its language."""
    application = applications.for_citizen(session, holder.mobile, number)
    try:
        appeals.file(
            session, context.intake, holder.mobile, number, grounds=grounds, language=pick_language(request), now=now()
        )
    except InvalidInput as e:
        return _citizen_page(
            request,
            context,
            session,
            application,
            grounds=grounds,
            grounds_error="; ".join(problem.message for problem in e.errors),
            status_code=e.status_code,
        )
    except (appeals.AppealOutOfTime, appeals.NotAppealable) as e:
        return _citizen_page(
            request, context, session, application, grounds=grounds, error=e.message, status_code=e.status_code
        )
    return RedirectResponse(f"{_citizen_page_of(application.number)}?done=filed", status_code=303)


# --- the authority's desk -----------------------------------------------------------------------------


@router.get("/desk/appeals")
def desk(
    request: Request,
    context: Context,
    session: DbSession,
    member: SignedInMember,
    decided: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    """The appeals before the signed-in authority: pending ones, most urgent first, with the
    working days left; ``?decided=1`` for those decided."""
    language = pick_language(request)
    today = today_in_india()
    kit = context.intake
    found = appeals.desk(session, member, pending=not decided, limit=DESK_LIMIT)
    return PAGES.render(
        request,
        "desk_appeals.html",
        {
            "level": appeals.level_heard_by(member),
            "items": [(_view(kit.clock, appeal, today), application) for appeal, application in found],
            "decided": bool(decided),
            "services": service_names(kit, language),
            "offices": office_names(kit, language),
            "limit": DESK_LIMIT,
        },
    )


def _desk_page(
    request: Request,
    context: IntakeContext,
    session: Session,
    appeal: Appeal,
    application: Application,
    *,
    posted: dict[str, str] | None = None,
    officer: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = pick_language(request)
    kit = context.intake
    service = kit.catalogue.get(application.service_code)
    # An order to issue fills the officer fields an approval fills (allowing only).
    officer_fields = field_views(
        service.officer_fields if service else (),
        language,
        officer or {},
        Rejection(status_code, by_field=dict(problems or {})),
    )
    done = request.query_params.get("done", "")
    return PAGES.render(
        request,
        "desk_appeal.html",
        {
            "view": _view(kit.clock, appeal, today_in_india()),
            "appeal": appeal,
            "application": application,
            "summary": ApplicationSummary.of(application, today_in_india()),
            "service_name": service_names(kit, language).get(application.service_code, application.service_code),
            "office_name": office_names(kit, language).get(application.office_code, application.office_code),
            "designated_officer": service.designated_officer if service else "",
            "steps": timeline(session, application, language, service, staff=True),
            "can_decide": appeal.status == AppealStatus.PENDING,
            "officer_fields": officer_fields,
            "penalty_max": kit.appeals.penalty_max_inr,
            "posted": posted or {},
            "problems": problems or {},
            "done": done if done in DONE else None,
        },
        status_code=status_code,
    )


@router.get("/desk/appeals/{number}/{level}")
def desk_appeal(
    number: str, level: int, request: Request, context: Context, session: DbSession, member: SignedInMember
) -> Response:
    appeal, application = appeals.for_authority(session, member, number, level)
    return _desk_page(request, context, session, appeal, application)


@router.post("/desk/appeals/{number}/{level}")
def decide_appeal(
    number: str,
    level: int,
    request: Request,
    context: Context,
    session: DbSession,
    member: AuthorityForm,
    officer: Annotated[dict[str, str], Depends(posted_officer_values)],
    outcome: Annotated[str, Form(max_length=16)] = "",
    reasons: Annotated[str, Form(max_length=4000)] = "",
    penalty_inr: Annotated[str, Form(max_length=12)] = "",
    penalty_reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Dismiss or allow (ordering the certificate issued), with reasons and any penalty on
    the designated officer. A refusal shows the page again with each problem at its field."""
    appeal, application = appeals.for_authority(session, member, number, level)
    t = PAGES.translator(request)
    posted = {"outcome": outcome, "reasons": reasons, "penalty_inr": penalty_inr, "penalty_reason": penalty_reason}
    amount = penalty_inr.strip()
    try:
        if amount and not (amount.isascii() and amount.isdigit()):
            max_inr = context.intake.appeals.penalty_max_inr
            raise InvalidInput([FieldError("penalty_inr", t("appeal.penalty_range", max=max_inr))])
        decision = appeals.Decision(
            outcome=outcome,
            reasons=reasons,
            penalty_inr=int(amount) if amount else None,
            penalty_reason=penalty_reason,
            officer_values=officer if outcome == "allow" else None,
            version=version,
        )
        appeals.decide(
            session, context.intake, member, number, level, decision, language=pick_language(request), now=now()
        )
    except Conflict:
        return PAGES.error_page(
            request, t("appeals.conflict"), 409, heading=t("desk.conflict_title"), back=_desk_page_of(number, level)
        )
    except InvalidInput as e:
        problems: dict[str, str] = {}
        for problem in e.errors:
            problems[problem.field] = "; ".join(filter(None, (problems.get(problem.field), problem.message)))
        return _desk_page(
            request,
            context,
            session,
            appeal,
            application,
            posted=posted,
            officer=officer,
            problems=problems,
            status_code=422,
        )
    return RedirectResponse(f"{_desk_page_of(application.number, level)}?done={outcome}", status_code=303)
