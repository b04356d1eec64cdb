"""Applications: submit, review, decide, resubmit, issue on approval, escalate when late.

Write order for submissions is the issuer's: attachment objects first, then one commit of
the application, its attachments, its first timeline entry and the citizen's notice.

Approval and issuing are two steps, each committed: the decision (status ``approved``),
then the document, issued through the issuer with the idempotency key
``application:<id>``. A crash between them leaves an approved application that
``resume_issuing`` completes; the key makes a second document impossible.

Those are the only commits a request makes here, besides a tracking miss (counted even
though the lookup then fails); every other change joins the caller's transaction, which
the request commits. The background work (``escalate_overdue``, ``resume_issuing``) is
a job: it commits each unit of its work itself, so one failure undoes no other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import audit
from accounts import limits
from accounts.limits import Limit
from accounts.staff import StaffMember, full_name_of
from intake import outbox, packs, pending_uploads, repository, returns
from intake.appeal_policy import AppealPolicy
from intake.attachments import CheckedFile, Problem, Refused, UploadedFile, check_files
from intake.catalogue import Catalogue, ServiceSpec
from intake.designations import designation
from intake.duplicates import DUPLICATE_WINDOW, find_duplicate
from intake.exceptions import DuplicateApplication
from intake.form_messages import LANGUAGES, Language, message
from intake.forms import certificate_data, validate_form, validate_officer_fields
from intake.models import PENDING, Application, ApplicationEvent, ApplicationStatus, Attachment, IntakeChannel
from intake.notices import notice
from intake.offices import Office
from intake.working_days import LegalClock
from issuer import service as issuer_service
from issuer.schemas import Bilingual, DocumentCreate, IssuedBy
from issuer.service import IssuingKit
from sanad.clock import today_in_india
from sanad.db import pipelined
from sanad.departments import get_department
from sanad.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    SanadError,
    TooManyRequests,
)
from sanad.ids import new_document_id, sha256_hex
from sanad.mobile import normalize_mobile
from sanad.models import Department
from sanad.reconcile import find_unreferenced
from sanad.storage import ObjectMissing, ObjectStore

log = logging.getLogger(__name__)

HISTOGRAM_BUCKETS = 61
"""Disposal times 0..59 working days, and a last bucket for 60 or more."""
DECIDERS = frozenset({"officer", "approver", "department_admin"})


@dataclass(frozen=True)
class IntakeKit:
    """Everything intake needs, built once at start-up."""

    catalogue: Catalogue
    offices: Mapping[str, Office]
    clock: LegalClock
    store: ObjectStore
    issuing: IssuingKit
    notice_channels: frozenset[str] = frozenset({"sms"})
    """Channels notices go out on: SMS always; WhatsApp and e-mail when configured."""
    duplicate_window: timedelta = DUPLICATE_WINDOW
    """How far back the counter looks for an identical application (zero: not at all)."""
    appeals: AppealPolicy = field(default_factory=AppealPolicy)
    """The time limits of appeals (:mod:`intake.appeals`)."""
    departments: dict[str, Department] = field(default_factory=dict, compare=False, repr=False)
    """Departments by code, each read once (:func:`department_of`)."""


@dataclass(frozen=True)
class Applicant:
    """Who is applying and through which door."""

    mobile: str
    language: str
    """The language of the page, which words every refusal."""
    channel: IntakeChannel
    operator: StaffMember | None = None
    notice_language: str | None = None
    """The language of the citizen's notices when it is not the page's: a citizen at the
    counter chooses theirs, whatever the operator's screen shows."""


def number_prefix(service: ServiceSpec) -> str:
    """``rev-income`` of REV → ``PB-REV-INC``; services whose abbreviations coincide
    share one serial sequence, so numbers stay unique."""
    words = service.code.split("-")
    if words[0].upper() == service.department.upper():
        words = words[1:]
    abbreviation = "".join(word[:3] for word in words).upper()[:6] or "APP"
    return f"PB-{service.department.upper()}-{abbreviation}"


def _event(
    application: Application,
    kind: str,
    actor: str,
    now: datetime,
    *,
    staff_id: int | None = None,
    remarks: str | None = None,
) -> ApplicationEvent:
    return ApplicationEvent(
        application_id=application.id, at=now, kind=kind, actor=actor, staff_id=staff_id, remarks=remarks
    )


def _notify(
    session: Session, kit: IntakeKit, application: Application, event: str, now: datetime, **extra: str
) -> None:
    _enqueue_notice(session, kit, application, event, now, _recipients(session, kit, application, now), **extra)


def _recipients(session: Session, kit: IntakeKit, application: Application, now: datetime) -> dict[str, str]:
    """Where a notice about ``application`` goes, by channel. May read (whether an
    e-mail address was proved) and enqueue that proof's link."""
    recipients: dict[str, str] = {c: application.mobile for c in ("sms", "whatsapp") if c in kit.notice_channels}
    if "email" in kit.notice_channels:
        recipients |= outbox.email_if_verified(
            session,
            mobile=application.mobile,
            email=application.form.get("email"),
            language=application.language,
            public_base_url=kit.issuing.public_base_url,
            application_id=application.id,
            now=now,
        )
    return recipients


def _enqueue_notice(
    session: Session,
    kit: IntakeKit,
    application: Application,
    event: str,
    now: datetime,
    recipients: Mapping[str, str],
    **extra: str,
) -> None:
    """Writes only: it may run inside :func:`sanad.db.pipelined`."""
    service = kit.catalogue.get(application.service_code)
    name = getattr(service.name, application.language) if service else application.service_code
    body = notice(
        event,
        application.language,
        number=application.number,
        service=name,
        due=application.due_on.strftime("%d-%m-%Y"),
        **extra,
    )
    outbox.enqueue(
        session,
        recipients=recipients,
        purpose=f"application_{event}",
        body=body,
        application_id=application.id,
        now=now,
    )


# --- submitting ----------------------------------------------------------------------------


def _language(language: str) -> Language:
    return next((known for known in LANGUAGES if known == language), "en")


def check_submission(
    kit: IntakeKit,
    language: str,
    *,
    service_code: str,
    office_code: str,
    form: object,
    files: Sequence[UploadedFile],
    counter_mobile: str | None = None,
) -> tuple[ServiceSpec, dict[str, object], list[CheckedFile]]:
    """What :func:`submit` would store, checked and cleaned, without storing anything:
    the service, the cleaned answers and the checked files; or every problem at once
    (:class:`~intake.attachments.Refused`), worded in ``language``.

    ``counter_mobile`` is the citizen's number given at the counter: the form's mobile
    questions are that number (filled in when left blank), never another one."""
    words = _language(language)
    service = kit.catalogue.get(service_code)
    if service is None:
        unknown = message("unknown_service", words, label=service_code[:64])
        raise InvalidInput([FieldError("service", unknown)])
    problems: list[Problem] = []
    office = kit.offices.get(office_code)
    if office is None or office.department != service.department or office.kind != service.office_kind:
        problems.append(Problem(FieldError("office", message("wrong_office", words))))
    if counter_mobile is not None:
        form = with_counter_mobile(service, form, counter_mobile)
    try:
        cleaned = validate_form(service, form, words)
    except InvalidInput as e:
        problems.extend(Problem(error) for error in e.errors)
        cleaned = {}
    if counter_mobile is not None:
        problems.extend(Problem(error) for error in _other_mobiles(service, cleaned, counter_mobile, words))
    checked, file_problems = check_files(service, files, words)
    if problems or file_problems:
        raise Refused([*problems, *file_problems], checked)
    return service, cleaned, list(checked)


def with_counter_mobile(service: ServiceSpec, form: object, mobile: str) -> object:
    """``form`` with its blank mobile questions answered by the citizen's number."""
    if not isinstance(form, Mapping):
        return form
    blanks = {spec.name: mobile for spec in service.fields if spec.type == "mobile" and not form.get(spec.name)}
    return {**form, **blanks}


def _other_mobiles(
    service: ServiceSpec, cleaned: Mapping[str, object], mobile: str, words: Language
) -> list[FieldError]:
    """A mobile answer that is not the citizen's number: one application, one number."""
    return [
        FieldError(spec.name, message("not_citizen_mobile", words, label=getattr(spec.label, words)))
        for spec in service.fields
        if spec.type == "mobile" and cleaned.get(spec.name) not in (None, mobile)
    ]


def duplicate_of(
    session: Session, kit: IntakeKit, service: ServiceSpec, mobile: str, cleaned: Mapping[str, object], now: datetime
) -> Application | None:
    """An identical application (service, citizen, answers) filed within the kit's window."""
    return find_duplicate(
        session, service_code=service.code, mobile=mobile, answers=cleaned, now=now, window=kit.duplicate_window
    )


@dataclass(frozen=True)
class Submitted:
    """What a submission committed: the application, its attachments (by kind) and its
    timeline (the one entry), so the answer needs no second read of them."""

    application: Application
    attachments: list[Attachment]
    timeline: list[ApplicationEvent]


def submit(
    session: Session,
    kit: IntakeKit,
    applicant: Applicant,
    *,
    service_code: str,
    office_code: str,
    form: object,
    files: Sequence[UploadedFile],
    now: datetime,
    confirm_duplicate: bool = False,
) -> Submitted:
    """Check everything (answers, office, files) and report every problem at once
    (:class:`~intake.attachments.Refused`); then store the files and commit the rest.

    At the counter an application identical to one filed lately is refused
    (:class:`~intake.exceptions.DuplicateApplication`) unless ``confirm_duplicate``.
    Returns the rows committed (:class:`Submitted`)."""
    counter_mobile = applicant.mobile if applicant.operator is not None else None
    service, cleaned, checked = check_submission(
        kit,
        applicant.language,
        service_code=service_code,
        office_code=office_code,
        form=form,
        files=files,
        counter_mobile=counter_mobile,
    )
    if counter_mobile is not None and not confirm_duplicate:
        existing = duplicate_of(session, kit, service, counter_mobile, cleaned, now)
        if existing is not None:
            raise DuplicateApplication(existing.number, today_in_india(existing.submitted_at).strftime("%d-%m-%Y"))
    department = department_of(session, kit, service.department)

    # The holder's record in the department's reserved namespace: a random id no department
    # can name, so none can claim it in advance. The certificate itself goes to the number
    # the application names (the issuing request's citizen_mobile), whatever the record says.
    _, citizen_ref = issuer_service.reserved_citizen(session, department, applicant.mobile)
    application_id = new_document_id()
    folder = f"applications/{citizen_ref}/{application_id}"
    attachments, objects = _stored_together(
        application_id,
        checked,
        now,
        ids=[new_document_id() for _ in checked],
        names=[f"{c.file.kind}{c.extension}" for c in checked],
        folder=folder,
        pack_name="submitted.tar",
    )
    with _objects_then_rows(session, kit.store, objects):
        serial = repository.next_serial(session, number_prefix(service), today_in_india(now).year)
        application = Application(
            id=application_id,
            number=f"{number_prefix(service)}-{today_in_india(now).year}-{serial:06d}",
            service_code=service.code,
            department_id=department.id,
            office_code=office_code,
            citizen_ref=citizen_ref,
            applicant_name=str(cleaned.get(service.certificate.holder_field, ""))[:200],
            mobile=applicant.mobile,
            language=applicant.notice_language or applicant.language,
            channel=applicant.channel,
            operator_id=applicant.operator.id if applicant.operator else None,
            form=cleaned,
            status=ApplicationStatus.SUBMITTED,
            submitted_at=now,
            due_on=kit.clock.due_date(now, service.time_limit_working_days),
            pauses=[],
            escalation_level=0,
            version=1,
            updated_at=now,
        )
        actor = (
            f"{applicant.operator.label}, {applicant.channel.replace('_', ' ')}"
            if applicant.operator
            else "citizen, online"
        )
        submitted = _event(
            application, "submitted", actor, now, staff_id=applicant.operator.id if applicant.operator else None
        )
        recipients = _recipients(session, kit, application, now)
        # The rows and the notice are only written, never read back: on PostgreSQL they
        # go to the server as one statement rather than one each.
        with pipelined(session):
            repository.insert_submission(session, application, attachments, submitted)
            _enqueue_notice(session, kit, application, "submitted", now, recipients)
        # Files kept from a refused attempt are copies now: their keeping ends in this commit.
        kept_objects = pending_uploads.forget(session, files)
    for key in kept_objects:
        _discard(kit.store, key)
    return Submitted(application, sorted(attachments, key=lambda a: a.kind), [submitted])


def department_of(session: Session, kit: IntakeKit, code: str) -> Department:
    """The department ``code`` names, read once per kit: a submission needs only its id,
    which never changes (its documents and applications refer to it), and the read was a
    tenth of a submission's database work. A copy that belongs to no session, so no
    session's rollback expires it under another thread."""
    department = kit.departments.get(code)
    if department is None:
        read = get_department(session, code)
        # A copy of the columns: the instance read may be one the session is using.
        department = Department(**{c.key: getattr(read, c.key) for c in inspect(Department).column_attrs})
        kit.departments[code] = department
    return department


@dataclass(frozen=True)
class _Object:
    key: str
    data: bytes
    content_type: str
    sha256: str


def _stored_together(
    application_id: str,
    checked: Sequence[CheckedFile],
    now: datetime,
    *,
    ids: Sequence[str],
    names: Sequence[str],
    folder: str,
    pack_name: str,
) -> tuple[list[Attachment], list[_Object]]:
    """The rows of files uploaded together and the object(s) that hold them: a single
    file as itself, under ``folder/<its name>``; several as one tar, ``folder/pack_name``,
    each row saying where its file starts (:mod:`intake.packs` says why)."""
    if not checked:
        return [], []
    digests = [sha256_hex(c.file.data) for c in checked]
    if len(checked) == 1:
        key = f"{folder}/{names[0]}"
        stored = _Object(key, checked[0].file.data, checked[0].content_type, digests[0])
        offsets: list[int | None] = [None]
    else:
        key = f"{folder}/{pack_name}"
        packed = packs.pack([(n, c.file.data) for n, c in zip(names, checked, strict=True)], now)
        stored = _Object(key, packed.data, packs.CONTENT_TYPE, sha256_hex(packed.data))
        offsets = list(packed.offsets)
    rows = [
        Attachment(
            id=ids[i],
            application_id=application_id,
            kind=c.file.kind,
            filename=c.file.filename[:200] or f"{c.file.kind}{c.extension}",
            content_type=c.content_type,
            size=len(c.file.data),
            sha256=digests[i],
            storage_key=key,
            storage_offset=offsets[i],
            uploaded_at=now,
        )
        for i, c in enumerate(checked)
    ]
    return rows, [stored]


def attachment_bytes(store: ObjectStore, attachment: Attachment) -> bytes:
    """The file as uploaded: the whole object, or its bytes in a packed one. Checked
    against the digest taken at upload, so an object changed or replaced since is never
    shown to an officer as the citizen's file (``ObjectMissing``: a 500 that is logged)."""
    if attachment.storage_offset is None:
        data = store.get(attachment.storage_key)
    else:
        data = store.get_range(attachment.storage_key, attachment.storage_offset, attachment.size)
    if sha256_hex(data) != attachment.sha256:
        raise ObjectMissing(
            f"{attachment.storage_key}: the bytes of attachment {attachment.id} do not match its digest"
        )
    return data


@contextmanager
def _objects_then_rows(session: Session, store: ObjectStore, objects: Sequence[_Object]) -> Iterator[None]:
    """The crash-safe step of a submission or an answer to a return: the files' objects
    are stored first, then the block adds the rows and one commit makes them durable. If
    anything fails, the rows roll back and the objects stored go; a crash in between
    leaves objects no row references (``sanad fsck --fix``), never a row without its object."""
    stored: list[str] = []
    try:
        for o in objects:
            store.put(o.key, o.data, o.content_type, sha256=o.sha256)
            stored.append(o.key)
        yield
        session.commit()
    except BaseException:
        session.rollback()
        for key in stored:
            _discard(store, key)
        raise


def _discard(store: ObjectStore, key: str) -> None:
    try:
        store.delete(key)
    except Exception:
        log.warning("could not remove unreferenced object %s; 'sanad fsck --fix' will", key, exc_info=True)


# --- reading ------------------------------------------------------------------------------------


def visible_to_staff(application: Application, staff: StaffMember) -> bool:
    if staff.is_head_office:
        return True
    if staff.department_id != application.department_id:
        return False
    return staff.office_code is None or staff.office_code == application.office_code


def for_staff(session: Session, staff: StaffMember, number: str) -> Application:
    application = repository.by_number(session, number) if len(number) <= 40 else None
    if application is None or not visible_to_staff(application, staff):
        raise NotFound("no such application")  # another department's reads the same
    return application


def for_citizen(session: Session, mobile: str, number: str) -> Application:
    """The application if ``mobile`` applied for it; anything else reads as missing."""
    application = repository.by_number(session, number.strip().upper()) if len(number) <= 40 else None
    if application is None or application.mobile != mobile:
        raise NotFound("no application with this number for this mobile number")
    return application


TRACK_MISS = "track_miss"
"""A tracking lookup that matched nothing: an event :mod:`accounts.limits` counts per address."""
TRACK_MISS_LIMIT = Limit(count=20, window=timedelta(minutes=15))
"""Tracking lookups from one address that may match nothing."""


def track(session: Session, number: str, mobile: str, ip: str, now: datetime) -> Application:
    """Tracking without an account. Numbers are sequential, so guessing is limited: 20
    misses per address in 15 minutes, then 429 until the oldest leaves the window."""
    # Held until the miss is counted: lookups from one address at once take turns, so no
    # more than the limit of them can miss.
    limits.take_turn(session, limits.key(TRACK_MISS, ip=ip), now=now)
    wait = limits.wait_for(session, TRACK_MISS, TRACK_MISS_LIMIT, now, ip=ip)
    if wait:
        raise TooManyRequests(f"too many numbers tried; try again in {-(-wait // 60)} minutes", wait)
    try:
        return for_citizen(session, normalize_mobile(mobile), number)
    except (ValueError, NotFound):
        limits.record(session, TRACK_MISS, ip=ip, at=now)
        session.commit()  # the miss must count although this request fails (404)
        raise NotFound("no application with this number for this mobile number") from None


def staff_queue(
    session: Session, staff: StaffMember, statuses: Sequence[str] | None = None, limit: int = 200
) -> list[Application]:
    if staff.department_id is None:
        raise Forbidden("the queue belongs to a department's staff")
    return repository.queue(session, staff.department_id, staff.office_code, statuses or PENDING, limit)


def staff_search(session: Session, staff: StaffMember, query: str, limit: int = 50) -> list[Application]:
    """The desk's applications matching what a person types: an application number (or
    part of it, such as its serial), a mobile number in any usual spelling, or part of the applicant's name."""
    if staff.department_id is None:
        raise Forbidden("the queue belongs to a department's staff")
    text = " ".join(query.split())
    try:
        mobile: str | None = normalize_mobile(text)
    except ValueError:
        mobile = None
    number = text.upper() if any(ch.isdigit() for ch in text) else None
    # A certificate number read out by its holder finds the application it was issued on.
    certificate = issuer_service.find_by_number(session, staff.department_id, text) if number else None
    return repository.search(
        session,
        staff.department_id,
        staff.office_code,
        number=number,
        mobile=mobile,
        name=text,
        document_id=certificate.id if certificate else None,
        limit=limit,
    )


# --- deciding ---------------------------------------------------------------------------------


def _save(session: Session) -> None:
    """Write the changes now, in the caller's transaction: a versioned row someone else
    changed meanwhile is found here and refused with 409 (the caller commits)."""
    try:
        session.flush()
    except StaleDataError as e:
        session.rollback()
        raise Conflict("someone else changed this application at the same moment; reload it") from e


def _disposal_working_days(kit: IntakeKit, application: Application, decided_at: datetime) -> int:
    clock = kit.clock
    days = clock.calendar.working_days_between(clock.deemed_day(application.submitted_at), clock.deemed_day(decided_at))
    for paused_from, resumed_at in application.pauses:
        days -= clock.calendar.working_days_between(
            clock.deemed_day(datetime.fromisoformat(paused_from)), clock.deemed_day(datetime.fromisoformat(resumed_at))
        )
    return max(0, days)


def _tally(session: Session, kit: IntakeKit, application: Application, decided_at: datetime) -> None:
    month = today_in_india(decided_at).strftime("%Y-%m")
    tally = repository.locked_tally(
        session, application.department_id, application.office_code, application.service_code, month, HISTOGRAM_BUCKETS
    )
    histogram = list(tally.histogram)
    histogram[min(_disposal_working_days(kit, application, decided_at), HISTOGRAM_BUCKETS - 1)] += 1
    tally.histogram = histogram


def decide(
    session: Session,
    kit: IntakeKit,
    staff: StaffMember,
    number: str,
    *,
    action: str,
    remarks: str | None,
    version: int | None,
    now: datetime,
    fields: Sequence[str] = (),
    attachments: Sequence[str] = (),
    officer_values: Mapping[str, object] | None = None,
    language: str = "en",
) -> Application:
    """``review`` (take it up), ``approve``, ``reject`` (reason required) or ``return``
    (what is missing, required; ``fields`` and ``attachments`` mark exactly what the
    citizen must correct and upload, :mod:`intake.returns`). An approval fills the
    service's officer fields (``officer_values``, checked like the citizen's answers and
    worded in ``language``). Two decisions at once: one wins, the other gets 409."""
    application = for_staff(session, staff, number)
    if staff.role not in DECIDERS:
        raise Forbidden(f"a {staff.role.replace('_', ' ')} cannot decide applications")
    if version is not None and version != application.version:
        raise Conflict("the application changed since you opened it; reload it")
    if application.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW):
        raise Conflict(f"the application is {application.status.replace('_', ' ')}; it cannot be decided now")
    remarks = (remarks or "").strip() or None
    problems = []
    if action in ("reject", "return") and not remarks:
        what = "why it is rejected" if action == "reject" else "what the citizen must provide"
        problems.append(FieldError("remarks", f"say {what}"))
    marks = returns.ReturnMarks()
    if action == "return":
        try:
            marks = returns.check_marks(kit.catalogue[application.service_code], fields, attachments)
        except InvalidInput as e:
            problems.extend(e.errors)
    elif fields or attachments:
        problems.append(FieldError("fields", "only a return marks what the citizen must change"))
    officer: dict[str, object] = {}
    if action == "approve":
        try:
            officer = validate_officer_fields(
                kit.catalogue[application.service_code], officer_values or {}, _language(language)
            )
        except InvalidInput as e:
            problems.extend(e.errors)
    elif officer_values:
        problems.append(FieldError("officer_values", "only an approval fills the officer's fields"))
    if problems:
        raise InvalidInput(problems)

    if action == "review":
        if application.status == ApplicationStatus.UNDER_REVIEW:
            raise Conflict("the application is already under review")
        application.status = ApplicationStatus.UNDER_REVIEW
        session.add(_event(application, "under_review", staff.label, now, staff_id=staff.id, remarks=remarks))
    elif action == "return":
        application.status = ApplicationStatus.RETURNED
        application.paused_at = now
        returned = _event(application, "returned", staff.label, now, staff_id=staff.id, remarks=remarks)
        returned.details = marks.details() if marks else None
        session.add(returned)
        _notify(session, kit, application, "returned", now, remarks=remarks or "")
    elif action == "reject":
        application.status = ApplicationStatus.REJECTED
        application.decided_at, application.decided_by, application.decision_reason = now, staff.id, remarks
        session.add(_event(application, "rejected", staff.label, now, staff_id=staff.id, remarks=remarks))
        _notify(session, kit, application, "rejected", now, remarks=remarks or "")
        _tally(session, kit, application, now)
    elif action == "approve":
        approve(session, kit, application, staff, remarks=remarks, officer_values=officer, now=now)
    else:
        raise InvalidInput([FieldError("action", "must be review, approve, reject or return")])
    application.updated_at = now
    audit.record(
        session,
        action=f"application.{action}",
        subject=f"application:{application.number}",
        actor=f"staff:{staff.username}",
        details={"role": str(staff.role), "office": application.office_code},
    )
    _save(session)
    if action == "approve":
        commit_then_issue(session, kit, application, now)
    return application


def approve(
    session: Session,
    kit: IntakeKit,
    application: Application,
    staff: StaffMember,
    *,
    remarks: str | None,
    officer_values: Mapping[str, object] | None,
    now: datetime,
    disposal: bool = True,
) -> None:
    """Approve, by an officer's decision or an appellate authority's order; ``disposal``
    counts it in the month's tally (not when it undoes a rejection already counted)."""
    application.status = ApplicationStatus.APPROVED
    application.decided_at, application.decided_by, application.decision_reason = now, staff.id, remarks
    application.officer_values = dict(officer_values) if officer_values else None
    application.updated_at = now
    session.add(_event(application, "approved", staff.label, now, staff_id=staff.id, remarks=remarks))
    if disposal:
        _tally(session, kit, application, now)


def commit_then_issue(session: Session, kit: IntakeKit, application: Application, now: datetime) -> None:
    """Commit an approval, then issue its certificate. The decision stands whatever happens
    to the issuing, which ``resume_issuing`` finishes (sanad intake work) if this request
    cannot: an outage leaves it approved, and the caller's answer says so."""
    _save(session)
    session.commit()
    try:
        issue_approved(session, kit, application.id, now)
    except SanadError as e:
        log.warning("application %s approved; issuing deferred: %s", application.number, e.message)
        session.rollback()
    session.refresh(application)


def issue_approved(session: Session, kit: IntakeKit, application_id: str, now: datetime) -> None:
    """Issue the certificate of an approved application, exactly once (the idempotency
    key replays the document if an earlier attempt got as far as issuing it).

    The issuer commits the document; the application's move to ``issued`` joins the
    caller's transaction (a crash before that commits leaves it approved, to be resumed)."""
    application = repository.by_id(session, application_id)
    if application is None or application.status != ApplicationStatus.APPROVED:
        return
    service = kit.catalogue[application.service_code]
    assert application.decided_at is not None
    valid_until = None
    if service.certificate.validity_days is not None:
        # From the decision day, not today: a retry must repeat the first request exactly.
        valid_until = today_in_india(application.decided_at) + timedelta(days=service.certificate.validity_days)
    request = DocumentCreate(
        type=service.certificate.template,
        citizen_id=issuer_service.citizen_id_of(session, application.citizen_ref),
        citizen_mobile=application.mobile,
        data=certificate_data(service, application.form, application.officer_values),
        valid_until=valid_until,
        issued_by=_issued_by(session, kit, service, application),
    )
    department = get_department(session, service.department)
    document, _ = issuer_service.issue_document(
        session,
        kit.issuing,
        department,
        request,
        idempotency_key=f"application:{application.id}",
        reserved_namespace=True,
    )
    application = repository.by_id(session, application_id)
    assert application is not None
    application.status = ApplicationStatus.ISSUED
    application.document_id = document.id
    application.updated_at = now
    session.add(_event(application, "issued", "system", now, remarks=f"certificate {document.id}"))
    _notify(session, kit, application, "issued", now)
    _save(session)


def _issued_by(session: Session, kit: IntakeKit, service: ServiceSpec, application: Application) -> IssuedBy | None:
    """The office the application was made at and the officer who approved it, as the
    certificate names them; ``None`` (the department's name) for an office no longer listed."""
    office = kit.offices.get(application.office_code)
    if office is None:
        return None
    officer = full_name_of(session, application.decided_by) if application.decided_by is not None else None
    title = designation(service.designated_officer)
    return IssuedBy(
        office=Bilingual(en=office.name.en, pa=office.name.pa or None),
        officer=officer,
        designation=Bilingual(en=title.en, pa=title.pa or None),
    )


def resume_issuing(session: Session, kit: IntakeKit, now: datetime, limit: int = 100) -> int:
    """Finish approved applications whose certificate is not issued yet (after a crash
    or an outage). Returns how many were issued. A job: each application is committed on
    its own, so one that fails again undoes none of the others."""
    issued = 0
    for application_id in repository.approved_awaiting_issue(session, limit):
        try:
            issue_approved(session, kit, application_id, now)
            session.commit()  # the job's unit: this application
            issued += 1
        except (SanadError, Conflict) as e:
            session.rollback()
            log.warning("issuing application %s deferred again: %s", application_id, e)
    return issued


# --- the citizen's side ------------------------------------------------------------------------


def resubmit(
    session: Session,
    kit: IntakeKit,
    mobile: str,
    number: str,
    *,
    answers: object | None,
    files: Sequence[UploadedFile] = (),
    remarks: str | None,
    language: str,
    now: datetime,
) -> Application:
    """Answer a return: corrected answers to the marked fields, a file for each marked
    document, remarks. Anything else is refused with every problem at once (``Refused``).
    The new files are stored first; then, in one commit, the replaced attachments are
    marked (they stay, for the record), the new ones added, the form corrected, the
    change put on the timeline, and the clock resumed: the due date moves out by the
    paused days."""
    application = for_citizen(session, mobile, number)
    if application.status != ApplicationStatus.RETURNED or application.paused_at is None:
        raise Conflict("only an application returned to you can be resubmitted")
    service = kit.catalogue[application.service_code]
    marks = returns.marks_of(repository.events_of(session, application.id))
    corrected, answer_problems = returns.correct(service, application.form, marks, answers, _language(language))
    checked, file_problems = check_files(
        service, files, _language(language), required=marks.attachments, allowed=marks.attachments
    )
    if answer_problems or file_problems:
        raise Refused([*(Problem(error) for error in answer_problems), *file_problems], checked)

    current = {a.kind: a for a in repository.attachments_of(session, application.id) if a.replaced_at is None}
    folder = f"applications/{application.citizen_ref}/{application.id}"
    ids = [new_document_id() for _ in checked]
    # Names of their own: the files they replace keep their objects.
    added, objects = _stored_together(
        application.id,
        checked,
        now,
        ids=ids,
        names=[f"{c.file.kind}-{i}{c.extension}" for c, i in zip(checked, ids, strict=True)],
        folder=folder,
        pack_name=f"answer-{ids[0]}.tar" if ids else "",  # no files: no object
    )
    with _objects_then_rows(session, kit.store, objects):
        for attachment in added:
            replaced = current.get(attachment.kind)
            if replaced is not None:
                replaced.replaced_at, replaced.replaced_by = now, attachment.id
        session.add_all(added)
        kept_objects = pending_uploads.forget(session, files)
        application.form = corrected.form
        application.applicant_name = str(corrected.form.get(service.certificate.holder_field, ""))[:200]
        application.pauses = [*application.pauses, [application.paused_at.isoformat(), now.isoformat()]]
        application.paused_at = None
        application.status = ApplicationStatus.SUBMITTED
        pauses = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in application.pauses]
        application.due_on = kit.clock.due_date(application.submitted_at, service.time_limit_working_days, pauses)
        application.updated_at = now
        answered = _event(application, "resubmitted", "citizen", now, remarks=(remarks or "").strip() or None)
        answered.details = returns.answer_details(corrected, added, current) or None
        session.add(answered)
        _notify(session, kit, application, "resubmitted", now)
        _save(session)
    for key in kept_objects:
        _discard(kit.store, key)
    return application


# --- the clock's side ----------------------------------------------------------------------------


def escalate_overdue(session: Session, kit: IntakeKit, now: datetime, limit: int = 500) -> int:
    """Move late applications up to the first, then the second appellate authority,
    each step on the timeline. Returns how many moved. A job: it commits its round."""
    moved = 0
    for application in repository.overdue_undecided(session, today_in_india(now), limit):
        level = kit.clock.escalation(application.due_on, now).level
        if level <= application.escalation_level:
            continue
        service = kit.catalogue.get(application.service_code)
        authority = (
            (service.first_appellate_authority if level == 1 else service.second_appellate_authority)
            if service
            else f"level {level}"
        )
        application.escalation_level = level
        application.updated_at = now
        which = "first" if level == 1 else "second"
        remarks = (
            f"time limit passed on {application.due_on.isoformat()}: "
            f"escalated to the {which} appellate authority ({authority})"
        )
        session.add(_event(application, "escalated", "system", now, remarks=remarks))
        moved += 1
    _save(session)
    session.commit()  # the job's unit: this round
    return moved


def find_orphans(session: Session, store: ObjectStore, *, now: datetime | None = None) -> list[str]:
    """Attachment objects no row references (older than the grace period), and the
    objects of pending uploads past their expiry (:mod:`intake.pending_uploads`)."""
    at = now or datetime.now(UTC)

    def referenced(keys: list[str]) -> set[str]:
        return repository.attachment_keys_referenced(session, keys) | pending_uploads.keys_referenced(session, keys, at)

    return find_unreferenced(store, "applications/", referenced, now=now)
