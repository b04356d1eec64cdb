"""Appeals under the Right to Service Act: filing, the appellate authorities' desks, their
decisions and penalties.

A citizen files a **first appeal** when their application is rejected, or undecided past
its due date, within ``AppealPolicy.filing_days`` (30) of the rejection or of the due date
passing. The service's first appellate authority (an approver of that office) decides it
within its own time limit of working days: dismiss it, or allow it and order the document
issued. A **second appeal** goes to the commission (head office) when the first is
dismissed, or left undecided past its time limit (it is then marked ``escalated``), within
the same number of days. Either authority may record a penalty on the designated officer.

Everything lands on the application's timeline and in the audit log, in the caller's
transaction. Allowing an appeal is the one exception: it approves the application as an
officer does (:func:`intake.applications.approve`), and the order is committed before the
certificate is issued through the same path (:func:`intake.applications.commit_then_issue`),
which ``resume_issuing`` finishes after a crash.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import audit
from accounts.models import StaffRole
from accounts.staff import StaffMember
from intake import appeals_repository, applications, repository
from intake.appeals_models import Appeal, AppealStatus
from intake.applications import IntakeKit
from intake.catalogue import ServiceSpec
from intake.form_messages import LANGUAGES, Language
from intake.forms import validate_officer_fields
from intake.i18n import MESSAGES
from intake.models import Application, ApplicationEvent, ApplicationStatus
from sanad.clock import today_in_india
from sanad.errors import Conflict, FieldError, InvalidInput, NotFound, SanadError
from sanad.ids import new_document_id
from sanad.text import UnsafeText, clean_text
from web.i18n import Translate

LEVELS = (1, 2)
WHICH = {1: "first", 2: "second"}
OUTCOMES = ("dismiss", "allow")
TEXT_MAX = 2000
AUTHORITY_ROLES = {StaffRole.APPROVER: 1, StaffRole.HEAD_OFFICE: 2}
"""Who hears which appeal: an office's approving officer is its first appellate
authority; head office sits for the commission, which hears second appeals."""
UNDECIDED = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)


class NotAppealable(SanadError):
    """Nothing to appeal against now: not rejected and not late, or already appealed."""

    status_code = 409
    code = "not_appealable"


class AppealOutOfTime(SanadError):
    status_code = 422
    code = "appeal_out_of_time"


@dataclass(frozen=True)
class Standing:
    """Whether the citizen may appeal now, to which level and until when; or why not."""

    level: int | None
    until: date | None
    refusal: str | None
    """Why not, in the page's language."""
    out_of_time: bool = False


def _words(language: str) -> Language:
    return next((known for known in LANGUAGES if known == language), "en")


def _day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def standing(session: Session, kit: IntakeKit, application: Application, now: datetime, language: str) -> Standing:
    """Where the citizen stands: the level they may appeal to now, or the reason they cannot."""
    t = MESSAGES.translator(_words(language))
    today = today_in_india(now)
    days = kit.appeals.filing_days
    appeals = {a.level: a for a in appeals_repository.of_application(session, application.id)}
    first = appeals.get(1)
    if first is None:
        if application.status == ApplicationStatus.REJECTED and application.decided_at is not None:
            start, ground = today_in_india(application.decided_at), "appeal.out_of_time_first"
        elif application.status in UNDECIDED and application.due_on < today:
            start, ground = application.due_on, "appeal.out_of_time_first"
        else:
            return Standing(None, None, t("appeal.not_appealable_first"))
        level = 1
    elif 2 in appeals:
        return Standing(None, None, t("appeal.already_second"))
    elif first.status == AppealStatus.DISMISSED and first.decided_at is not None:
        start, ground, level = today_in_india(first.decided_at), "appeal.out_of_time_second", 2
    elif first.status == AppealStatus.PENDING and first.due_on < today:
        start, ground, level = first.due_on, "appeal.out_of_time_second", 2
    elif first.status == AppealStatus.PENDING:
        return Standing(None, None, t("appeal.first_pending", due=_day(first.due_on)))
    else:
        return Standing(None, None, t("appeal.allowed_already"))
    until = start + timedelta(days=days)
    if today > until:
        return Standing(None, until, t(ground, days=days, until=_day(until)), out_of_time=True)
    return Standing(level, until, None)


def _event(
    application: Application, kind: str, actor: str, now: datetime, *, staff_id: int | None = None, remarks: str | None
) -> ApplicationEvent:
    return ApplicationEvent(
        application_id=application.id, at=now, kind=kind, actor=actor, staff_id=staff_id, remarks=remarks
    )


def _save(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as e:
        session.rollback()
        raise Conflict("someone else changed this appeal or its application at the same moment; reload it") from e


def _authority(service: ServiceSpec | None, level: int) -> str:
    if service is None:
        return f"level {level}"
    return service.first_appellate_authority if level == 1 else service.second_appellate_authority


def _unwritten(field: str, text: str, t: Translate, *, required: str = "appeal.grounds_required") -> FieldError | None:
    if not text.strip():
        return FieldError(field, t(required))
    if len(text) > TEXT_MAX:
        return FieldError(field, t("appeal.too_long", max=TEXT_MAX))
    return None


def _unreadable(field: str, text: str, t: Translate) -> FieldError | None:
    """Words kept for the record must be text a reader sees as it is: no control or
    invisible characters (and nothing the database cannot store, such as NUL)."""
    try:
        clean_text(text)
    except UnsafeText:
        return FieldError(field, t("appeal.unreadable"))
    if any(unicodedata.category(char) == "Cc" and char not in "\n\r\t" for char in text):
        return FieldError(field, t("appeal.unreadable"))
    return None


# --- the citizen's side -------------------------------------------------------------------------


def file(
    session: Session, kit: IntakeKit, mobile: str, number: str, *, grounds: str, language: str, now: datetime
) -> Appeal:
    """File the appeal the citizen may file now (:func:`standing`), with their grounds."""
    t = MESSAGES.translator(_words(language))
    application = applications.for_citizen(session, mobile, number)
    problem = _unwritten("grounds", grounds, t) or _unreadable("grounds", grounds, t)
    if problem:
        raise InvalidInput([problem])
    grounds = grounds.strip()
    where = standing(session, kit, application, now, language)
    if where.level is None:
        raise (AppealOutOfTime if where.out_of_time else NotAppealable)(where.refusal or "")
    service = kit.catalogue.get(application.service_code)
    if where.level == 2:
        first = appeals_repository.at_level(session, application.id, 1)
        if first is not None and first.status == AppealStatus.PENDING:
            first.status = AppealStatus.ESCALATED  # the commission hears it now, not both
    appeal = Appeal(
        id=new_document_id(),
        application_id=application.id,
        level=where.level,
        department_id=application.department_id,
        office_code=application.office_code,
        service_code=application.service_code,
        authority=_authority(service, where.level),
        grounds=grounds,
        filed_at=now,
        due_on=kit.clock.due_date(now, kit.appeals.decision_days(application.service_code)),
        status=AppealStatus.PENDING,
    )
    session.add(appeal)
    session.add(_event(application, f"{WHICH[where.level]}_appeal_filed", "citizen", now, remarks=grounds))
    audit.record(
        session,
        action="appeal.file",
        subject=f"application:{application.number}",
        actor="citizen",
        details={"level": where.level, "authority": appeal.authority, "office": application.office_code},
        at=now,
    )
    try:
        _save(session)
    except IntegrityError:  # the same appeal filed twice at once (a double click): one stands
        session.rollback()
        raise NotAppealable(t("appeal.already_filed")) from None
    return appeal


# --- the authority's side ------------------------------------------------------------------------


def level_heard_by(staff: StaffMember) -> int | None:
    """The level of appeals ``staff`` hears, if any."""
    return AUTHORITY_ROLES.get(staff.role)


def hears(staff: StaffMember, appeal: Appeal) -> bool:
    if level_heard_by(staff) != appeal.level:
        return False
    if staff.is_head_office:
        return True
    return staff.department_id == appeal.department_id and staff.office_code in (None, appeal.office_code)


def for_authority(session: Session, staff: StaffMember, number: str, level: int) -> tuple[Appeal, Application]:
    """The appeal at ``level`` of application ``number``, if ``staff`` hears it; anything
    else (another office's, another level's) reads as missing."""
    known = level in LEVELS and len(number) <= 40
    application = repository.by_number(session, number) if known else None
    appeal = appeals_repository.at_level(session, application.id, level) if application else None
    if application is None or appeal is None or not hears(staff, appeal):
        raise NotFound("no such appeal before you")
    return appeal, application


def desk(
    session: Session, staff: StaffMember, *, pending: bool = True, limit: int = 200
) -> list[tuple[Appeal, Application]]:
    """The appeals before ``staff``: pending ones, most urgent first; or those decided."""
    level = level_heard_by(staff)
    if level is None:
        return []
    return appeals_repository.desk(
        session,
        level=level,
        department_id=None if staff.is_head_office else staff.department_id,
        office_code=None if staff.is_head_office else staff.office_code,
        pending=pending,
        limit=limit,
    )


@dataclass(frozen=True)
class Decision:
    outcome: str
    """``dismiss`` or ``allow`` (and order the document issued)."""
    reasons: str
    penalty_inr: int | None = None
    penalty_reason: str | None = None
    officer_values: Mapping[str, object] | None = None
    """An allowed appeal fills the service's officer fields, as an approval does."""
    version: int | None = None


def _problems(
    kit: IntakeKit, service: ServiceSpec | None, decision: Decision, language: str, *, orders_issue: bool
) -> dict[str, object]:
    """Every problem with a decision at once (``InvalidInput``); the officer fields checked
    when it orders the certificate issued."""
    t = MESSAGES.translator(_words(language))
    problems: list[FieldError] = []
    if decision.outcome not in OUTCOMES:
        problems.append(FieldError("outcome", t("appeal.outcome_required")))
    for problem in (
        _unwritten("reasons", decision.reasons, t, required="appeal.reasons_required"),
        _unreadable("reasons", decision.reasons, t),
        _unreadable("penalty_reason", decision.penalty_reason or "", t),
    ):
        if problem:
            problems.append(problem)
    if decision.penalty_inr is not None and not 1 <= decision.penalty_inr <= kit.appeals.penalty_max_inr:
        problems.append(FieldError("penalty_inr", t("appeal.penalty_range", max=kit.appeals.penalty_max_inr)))
    if decision.penalty_inr is not None and not (decision.penalty_reason or "").strip():
        problems.append(FieldError("penalty_reason", t("appeal.penalty_reason_required")))
    if decision.penalty_inr is None and (decision.penalty_reason or "").strip():
        problems.append(FieldError("penalty_inr", t("appeal.penalty_amount_required")))
    officer: dict[str, object] = {}
    if orders_issue and service is not None:
        try:
            officer = validate_officer_fields(service, decision.officer_values or {}, _words(language))
        except InvalidInput as e:
            problems.extend(e.errors)
    if problems:
        raise InvalidInput(problems)
    return officer


def decide(
    session: Session,
    kit: IntakeKit,
    staff: StaffMember,
    number: str,
    level: int,
    decision: Decision,
    *,
    language: str,
    now: datetime,
) -> Appeal:
    """Dismiss or allow a pending appeal, with reasons, and any penalty on the designated
    officer. Allowing orders the document issued: the application is approved and its
    document issued as an officer's approval issues it (unless it was issued meanwhile)."""
    appeal, application = for_authority(session, staff, number, level)
    if decision.version is not None and decision.version != appeal.version:
        raise Conflict("the appeal changed since you opened it; reload it")
    if appeal.status != AppealStatus.PENDING:
        raise Conflict(f"the appeal is {appeal.status}; it cannot be decided now")
    service = kit.catalogue.get(application.service_code)
    allow = decision.outcome == "allow"
    orders_issue = allow and application.status in (*UNDECIDED, ApplicationStatus.REJECTED)
    officer = _problems(kit, service, decision, language, orders_issue=orders_issue)
    if allow and not orders_issue and application.status == ApplicationStatus.RETURNED:
        raise Conflict("the application is with the citizen for information; decide the appeal once it is back")

    reasons = decision.reasons.strip()
    appeal.status = AppealStatus.ALLOWED if allow else AppealStatus.DISMISSED
    appeal.decided_at, appeal.decided_by, appeal.reasons = now, staff.id, reasons
    which = WHICH[level]
    session.add(
        _event(
            application,
            f"{which}_appeal_{'allowed' if allow else 'dismissed'}",
            staff.label,
            now,
            staff_id=staff.id,
            remarks=reasons,
        )
    )
    if decision.penalty_inr is not None:
        _penalize(session, appeal, application, staff, service, decision, now)
    if orders_issue:
        disposal = application.status in UNDECIDED  # a rejection was counted when it was made
        applications.approve(
            session, kit, application, staff, remarks=reasons, officer_values=officer, now=now, disposal=disposal
        )
    audit.record(
        session,
        action=f"appeal.{decision.outcome}",
        subject=f"application:{application.number}",
        actor=f"staff:{staff.username}",
        details={"level": level, "role": str(staff.role), "office": application.office_code},
        at=now,
    )
    _save(session)
    if orders_issue:
        applications.commit_then_issue(session, kit, application, now)
        session.refresh(appeal)
    return appeal


def _penalize(
    session: Session,
    appeal: Appeal,
    application: Application,
    staff: StaffMember,
    service: ServiceSpec | None,
    decision: Decision,
    now: datetime,
) -> None:
    appeal.penalty_inr = decision.penalty_inr
    appeal.penalty_reason = (decision.penalty_reason or "").strip()
    officer = service.designated_officer if service else ""
    penalty = _event(application, "penalty", staff.label, now, staff_id=staff.id, remarks=appeal.penalty_reason)
    penalty.details = {"amount_inr": decision.penalty_inr, "officer": officer, "level": appeal.level}
    session.add(penalty)
    audit.record(
        session,
        action="appeal.penalty",
        subject=f"application:{application.number}",
        actor=f"staff:{staff.username}",
        details={"level": appeal.level, "amount_inr": decision.penalty_inr, "officer": officer},
        at=now,
    )
