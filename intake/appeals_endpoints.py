"""The appeals API: a citizen's appeals on an application and filing the next one; an
appellate authority's appeals and its decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from intake import appeals, appeals_repository, applications
from intake.appeals_models import Appeal, AppealStatus
from intake.appeals_schemas import AppealCreate, AppealDecisionCreate, AppealRead, AppealsRead
from intake.dependencies import Context, CurrentCaller, CurrentStaff, IntakeContext
from intake.models import Application
from intake.views_parts import working_days_left
from sanad.clock import today_in_india
from sanad.dependencies import DbSession
from sanad.errors import Forbidden
from web.i18n import pick_language

router = APIRouter(prefix="/api/v1", tags=["appeals"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in."},
    404: {"description": "No such application or appeal for you (another office's reads the same)."},
    503: {"description": "Database or object storage unavailable; retry."},
}


def _now() -> datetime:
    return datetime.now(UTC)


def _read(context: IntakeContext, appeal: Appeal, application: Application) -> AppealRead:
    pending = appeal.status == AppealStatus.PENDING
    left = working_days_left(context.intake.clock, appeal.due_on, today_in_india()) if pending else None
    return AppealRead.of(appeal, application.number, left)


@router.get("/applications/{number}/appeals", response_model=AppealsRead, responses=_ERRORS)
def list_appeals(
    number: str, request: Request, caller: CurrentCaller, context: Context, session: DbSession
) -> AppealsRead:
    """An application's appeals, and whether (to which level, until when) its citizen may
    appeal now, or why not: its citizen, or its department's staff."""
    if caller.mobile is not None:
        application = applications.for_citizen(session, caller.mobile, number)
    else:
        assert caller.staff is not None
        application = applications.for_staff(session, caller.staff, number)
    where = appeals.standing(session, context.intake, application, _now(), pick_language(request))
    return AppealsRead(
        appeals=[_read(context, a, application) for a in appeals_repository.of_application(session, application.id)],
        may_file=where.level,
        file_until=where.until,
        refusal=where.refusal,
    )


@router.post(
    "/applications/{number}/appeals",
    status_code=201,
    response_model=AppealRead,
    responses={
        **_ERRORS,
        403: {"description": "Only the citizen who applied files an appeal."},
        409: {"description": "Nothing to appeal now (`not_appealable`): neither rejected nor late, or appealed."},
        422: {"description": "Out of time (`appeal_out_of_time`), or no grounds given."},
    },
)
def file_appeal(
    number: str, body: AppealCreate, request: Request, caller: CurrentCaller, context: Context, session: DbSession
) -> AppealRead:
    """File a first appeal against a rejection or a delay, or a second appeal to the
    commission when the first is dismissed or not decided in time, within the days the Act
    allows. Refusals are worded in the requested language (`?lang=pa`)."""
    if caller.mobile is None:
        raise Forbidden("only the citizen who applied files an appeal")
    appeal = appeals.file(
        session,
        context.intake,
        caller.mobile,
        number,
        grounds=body.grounds,
        language=pick_language(request),
        now=_now(),
    )
    return _read(context, appeal, applications.for_citizen(session, caller.mobile, number))


@router.get("/appeals", response_model=list[AppealRead], responses=_ERRORS)
def appeals_before_me(
    member: CurrentStaff,
    context: Context,
    session: DbSession,
    decided: Annotated[bool, Query(description="Decided appeals, latest first, instead of pending ones.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[AppealRead]:
    """The appeals before the signed-in appellate authority: an office's approving officer
    hears its first appeals, head office the second appeals to the commission. Pending ones
    come most urgent first, with the working days left; anyone else has none."""
    found = appeals.desk(session, member, pending=not decided, limit=limit)
    return [_read(context, appeal, application) for appeal, application in found]


@router.post(
    "/appeals/{number}/{level}/decision",
    response_model=AppealRead,
    responses={
        **_ERRORS,
        409: {"description": "Already decided, or changed by someone else since you read it."},
        422: {"description": "Reasons missing, a penalty out of range or without its reason, or an officer field."},
    },
)
def decide_appeal(
    number: str,
    level: Annotated[int, Path(ge=1, le=2, description="1: a first appeal; 2: a second.")],
    body: AppealDecisionCreate,
    request: Request,
    member: CurrentStaff,
    context: Context,
    session: DbSession,
) -> AppealRead:
    """Dismiss the appeal, or allow it and order the certificate issued (it is issued at once,
    as an officer's approval issues it), with reasons; and optionally record a penalty on
    the designated officer, shown on the application's timeline."""
    decision = appeals.Decision(
        outcome=body.outcome,
        reasons=body.reasons,
        penalty_inr=body.penalty_inr,
        penalty_reason=body.penalty_reason,
        officer_values=body.officer_values,
        version=body.version,
    )
    appeal = appeals.decide(
        session, context.intake, member, number, level, decision, language=pick_language(request), now=_now()
    )
    _, application = appeals.for_authority(session, member, number, level)
    return _read(context, appeal, application)
