"""Pieces the intake pages share: the application form generated from a catalogue entry,
what a posted form holds, submitting it (with every refusal turned into messages next to
the fields and a list of them on top, and the valid files kept for the next attempt), and
an application's answers and timeline as people read them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake import applications, pending_uploads, repository
from intake.applications import Applicant, IntakeKit, attachment_bytes
from intake.attachments import Refused, UploadedFile, size_text, type_names
from intake.catalogue import AttachmentSpec, FormField, ServiceSpec
from intake.exceptions import CalendarError
from intake.models import Application, ApplicationStatus, Attachment
from intake.offices import Office
from intake.pending_uploads import KeptFile
from intake.transliteration import suggest_english
from intake.views_common import now
from intake.working_days import LegalClock
from sanad.departments import list_departments
from sanad.errors import BadRequest, InvalidInput, NotFound
from sanad.storage import ObjectStore, StorageUnavailable
from web.i18n import localized

FIELD_PREFIX = "field."
"""Form answers are posted as ``field.<name>`` so they never clash with ``office`` or ``csrf``."""
ATTACHMENT_PREFIX = "attachment."
"""Files are posted as ``attachment.<kind>``, as the API takes them."""
KEPT_PREFIX = "kept."
"""``kept.<kind>``: the token of a file kept from a refused attempt (:mod:`intake.pending_uploads`)."""
MAX_FILES = 20
MAX_FIELDS = 80
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


# --- the generated form ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceView:
    value: str
    label: str


@dataclass(frozen=True)
class FieldView:
    """One question as the form prints it."""

    name: str
    input_name: str
    input_id: str
    type: str
    label: str
    help: str | None
    required: bool
    value: str
    error: str | None
    max_length: int | None
    choices: tuple[ChoiceView, ...]


@dataclass(frozen=True)
class AttachmentView:
    kind: str
    input_name: str
    input_id: str
    label: str
    help: str | None
    required: bool
    accept: str
    """The ``accept`` attribute: the spec's media types, then their file extensions."""
    types: str
    """What the citizen reads: ``PDF, JPEG, PNG``."""
    limit: str
    error: str | None
    kept: KeptFile | None = None
    """A file kept from a refused attempt: sent again unless another is chosen."""
    sent: Attachment | None = None
    """On the answer to a return: the file sent before, which a new one replaces."""


@dataclass(frozen=True)
class OfficeView:
    code: str
    name: str


@dataclass(frozen=True)
class Rejection:
    """Why a posted form was not accepted: messages next to fields, and the rest on top."""

    status_code: int
    by_field: dict[str, str] = field(default_factory=dict)
    """``<field name>``, ``office``, ``attachment.<kind>``, ``remarks`` or ``citizen_mobile`` → message."""
    general: list[str] = field(default_factory=list)
    kept: dict[str, KeptFile] = field(default_factory=dict)
    """Kind → the valid file kept for the next attempt."""
    files_kept: bool = False
    """Every valid file sent was kept; otherwise (a refusal before the files were looked
    at, or object storage down) the page asks for the files again."""


@dataclass(frozen=True)
class ErrorLink:
    """One line of the list of problems on top of a refused form, linking to its field."""

    href: str
    text: str


def error_summary(rejection: Rejection | None, targets: Sequence[tuple[str, str]]) -> list[ErrorLink]:
    """Every problem of ``rejection`` in the order the page prints its controls
    (``targets``: key in ``by_field``, the control's id), then the general ones."""
    if rejection is None:
        return []
    placed = {key for key, _ in targets}
    links = [
        ErrorLink(f"#{key.replace('_', '-')}", text) for key, text in rejection.by_field.items() if key not in placed
    ]
    links += [
        ErrorLink(f"#{input_id}", rejection.by_field[key]) for key, input_id in targets if key in rejection.by_field
    ]
    links += [ErrorLink("#form-problems", text) for text in rejection.general]
    return links


def offices_for(kit: IntakeKit, service: ServiceSpec) -> list[Office]:
    """The offices that deliver ``service``: its department's, of its kind."""
    return [o for o in kit.offices.values() if o.department == service.department and o.kind == service.office_kind]


def service_or_404(kit: IntakeKit, code: str) -> ServiceSpec:
    service = kit.catalogue.get(code)
    if service is None:
        raise NotFound("no such service")
    return service


def form_values(
    kit: IntakeKit,
    service: ServiceSpec,
    language: str,
    *,
    answers: Mapping[str, str],
    office: str,
    rejection: Rejection | None = None,
) -> dict[str, Any]:
    """What ``apply_form.html`` needs to print ``service``'s form in ``language``."""
    fields = field_views(service.fields, language, answers, rejection)
    attachments = attachment_views(service.attachments, language, rejection)
    offices = [OfficeView(o.code, localized(o.name, language)) for o in offices_for(kit, service)]
    if not office and len(offices) == 1:
        office = offices[0].code
    targets = [
        ("citizen_mobile", "citizen-mobile"),
        *((f.name, f.input_id) for f in fields),
        ("office", "office"),
        *((a.input_name, a.input_id) for a in attachments),
    ]
    return {
        "service": service,
        "fields": fields,
        "attachments": attachments,
        "offices": offices,
        "office": office,
        "office_error": rejection.by_field.get("office") if rejection else None,
        "rejection": rejection,
        "summary": error_summary(rejection, targets),
    }


def posted_form_values(
    kit: IntakeKit, service: ServiceSpec, language: str, posted: PostedForm, rejection: Rejection
) -> dict[str, Any]:
    """The form again with what was posted and the files kept: with its problems, or, for
    a rejection that names none (going back from the check of the answers), as it was."""
    values = form_values(
        kit, service, language, answers=answers_of(service, posted), office=posted.get("office"), rejection=rejection
    )
    if not rejection.by_field and not rejection.general:
        values |= {"rejection": None, "summary": []}
    return values


def field_views(
    specs: Sequence[FormField], language: str, answers: Mapping[str, str], rejection: Rejection | None
) -> list[FieldView]:
    """The questions ``specs`` as a form prints them, with what was typed and what is wrong."""
    errors = rejection.by_field if rejection else {}
    return [
        FieldView(
            name=spec.name,
            input_name=FIELD_PREFIX + spec.name,
            input_id=f"field-{spec.name}",
            type=spec.type,
            label=localized(spec.label, language),
            help=localized(spec.help, language) if spec.help else None,
            required=spec.required,
            value=answers.get(spec.name) or _suggested_english(spec, answers),
            error=errors.get(spec.name),
            max_length=spec.validation.max_length,
            choices=tuple(ChoiceView(c.value, localized(c.label, language)) for c in spec.validation.choices),
        )
        for spec in specs
    ]


def _suggested_english(spec: FormField, answers: Mapping[str, str]) -> str:
    """An English field left blank, once its Gurmukhi one is answered, shows a suggested
    spelling: the holder confirms it (or corrects it) by sending the form again."""
    source = answers.get(spec.english_of) if spec.english_of else None
    return suggest_english(source) if source else ""


def attachment_views(
    specs: Sequence[AttachmentSpec],
    language: str,
    rejection: Rejection | None,
    *,
    required: Sequence[str] | None = None,
    sent: Mapping[str, Attachment] | None = None,
) -> list[AttachmentView]:
    """The upload controls of ``specs``: which must be chosen (``required``, default what
    the service requires), a file kept from a refused attempt, the file sent before."""
    errors = rejection.by_field if rejection else {}
    kept = rejection.kept if rejection else {}
    return [
        AttachmentView(
            kind=spec.kind,
            input_name=ATTACHMENT_PREFIX + spec.kind,
            input_id=f"attachment-{spec.kind}",
            label=localized(spec.label, language),
            help=localized(spec.help, language) if spec.help else None,
            required=spec.required if required is None else spec.kind in required,
            accept=",".join(
                [*spec.accepted_types, *dict.fromkeys(EXTENSIONS[t] for t in spec.accepted_types if t in EXTENSIONS)]
            ),
            types=type_names(spec.accepted_types),
            limit=size_text(spec.max_bytes),
            error=errors.get(ATTACHMENT_PREFIX + spec.kind),
            kept=kept.get(spec.kind),
            sent=(sent or {}).get(spec.kind),
        )
        for spec in specs
    ]


# --- what a posted form holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedForm:
    fields: Mapping[str, str]
    files: tuple[UploadedFile, ...]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    def kept_tokens(self) -> dict[str, str]:
        """Kind → the token of a kept file, for the kinds no new file was chosen for."""
        chosen = {file.kind for file in self.files}
        return {
            key.removeprefix(KEPT_PREFIX): token
            for key, token in self.fields.items()
            if key.startswith(KEPT_PREFIX) and token and key.removeprefix(KEPT_PREFIX) not in chosen
        }


async def posted_form(request: Request) -> PostedForm:
    """The multipart body of an application form. An empty file input (nothing chosen)
    arrives as a nameless empty part: it is not a file."""
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    try:
        async with request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS) as body:
            for key, value in body.multi_items():
                if isinstance(value, str):
                    fields.setdefault(key, value)
                elif key.startswith(ATTACHMENT_PREFIX):
                    data = await value.read()
                    if data or value.filename:
                        files.append(
                            UploadedFile(
                                kind=key.removeprefix(ATTACHMENT_PREFIX),
                                filename=value.filename or "",
                                declared_type=value.content_type,
                                data=data,
                            )
                        )
    except StarletteHTTPException as e:  # too many parts, or not a form at all
        raise BadRequest(str(e.detail)) from e
    return PostedForm(fields, tuple(files))


Posted = Annotated[PostedForm, Depends(posted_form)]


def posted_csrf(posted: Posted) -> str:
    """The CSRF token of an application form, whose body the form reads itself (with its
    own limits on parts), for :meth:`web.guards.SignIn.form`."""
    return posted.get("csrf")


def answers_of(service: ServiceSpec, posted: PostedForm) -> dict[str, str]:
    """The answers to ``service``'s questions, as typed (the service cleans them)."""
    return {spec.name: posted.get(FIELD_PREFIX + spec.name) for spec in service.fields}


# --- submitting --------------------------------------------------------------------------------------------


def explain(error: InvalidInput, service: ServiceSpec, language: str) -> Rejection:
    """Each refusal next to its field. The service words them in ``language``, each one
    naming its field (:mod:`intake.form_messages`), so they also read well in the list
    on top of the form."""
    questions = {spec.name for spec in service.fields}
    kinds = {spec.kind for spec in service.attachments}
    rejection = Rejection(error.status_code)
    for problem in error.errors:
        kind = problem.field.removeprefix("attachments.")
        if problem.field in questions or problem.field in ("office", "remarks"):
            rejection.by_field.setdefault(problem.field, problem.message)
        elif problem.field.startswith("attachments.") and kind in kinds:
            rejection.by_field.setdefault(ATTACHMENT_PREFIX + kind, problem.message)
        elif problem.message not in rejection.general:
            rejection.general.append(problem.message)
    return rejection


def owner_of(applicant: Applicant) -> str:
    """Who a kept file belongs to: the operator at the counter, or the citizen."""
    if applicant.operator is not None:
        return pending_uploads.staff_owner(applicant.operator.id)
    return pending_uploads.citizen_owner(applicant.mobile)


def with_kept_files(
    session: Session, kit: IntakeKit, owner: str, service: ServiceSpec, posted: PostedForm
) -> list[UploadedFile]:
    """The files of a posted form: those chosen now, and those kept from a refused attempt."""
    kept = pending_uploads.take(session, kit.store, owner, service.code, posted.kept_tokens(), now())
    return [*posted.files, *kept]


def refusal(
    session: Session, kit: IntakeKit, owner: str, service: ServiceSpec, error: Refused, language: str
) -> Rejection:
    """A refused form as the page shows it, keeping its valid files for the next attempt."""
    rejection = explain(error, service, language)
    kept, lost = pending_uploads.keep(session, kit.store, owner, service.code, error.valid_files, now())
    rejection.kept.update((k.kind, k) for k in kept)
    return replace(rejection, files_kept=not lost)


def submit_posted(
    session: Session,
    kit: IntakeKit,
    service: ServiceSpec,
    applicant: Applicant,
    posted: PostedForm,
    *,
    confirm_duplicate: bool = False,
) -> Application | Rejection:
    """Submit a posted form through :func:`intake.applications.submit`; a refusal the page
    can show next to the fields comes back as a :class:`Rejection`."""
    owner = owner_of(applicant)
    try:
        return applications.submit(
            session,
            kit,
            applicant,
            service_code=service.code,
            office_code=posted.get("office"),
            form=answers_of(service, posted),
            files=with_kept_files(session, kit, owner, service, posted),
            now=now(),
            confirm_duplicate=confirm_duplicate,
        ).application
    except Refused as e:
        return refusal(session, kit, owner, service, e, applicant.language)
    except InvalidInput as e:
        return explain(e, service, applicant.language)


@dataclass(frozen=True)
class Checked:
    """A posted form that passed every check, not yet filed: its cleaned answers and its
    files, kept for the step that files it (:mod:`intake.pending_uploads`)."""

    cleaned: dict[str, object]
    kept: list[KeptFile]

    def as_kept(self) -> Rejection:
        """The form again with nothing wrong, its files still kept (going back to change it)."""
        return Rejection(200, kept={k.kind: k for k in self.kept}, files_kept=True)


def check_posted(
    session: Session,
    kit: IntakeKit,
    service: ServiceSpec,
    applicant: Applicant,
    posted: PostedForm,
) -> Checked | Rejection:
    """Check a posted form as :func:`submit_posted` would, filing nothing; keep its files
    for the next step."""
    owner = owner_of(applicant)
    try:
        _, cleaned, checked = applications.check_submission(
            kit,
            applicant.language,
            service_code=service.code,
            office_code=posted.get("office"),
            form=answers_of(service, posted),
            files=with_kept_files(session, kit, owner, service, posted),
            counter_mobile=applicant.mobile if applicant.operator is not None else None,
        )
    except Refused as e:
        return refusal(session, kit, owner, service, e, applicant.language)
    except InvalidInput as e:
        return explain(e, service, applicant.language)
    kept, lost = pending_uploads.keep(session, kit.store, owner, service.code, checked, now())
    if lost:  # the next step could not bring the files: better to say so now
        raise StorageUnavailable("the documents could not be kept for the next step; try again shortly")
    return Checked(cleaned, kept)


# --- an application as people read it ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


def answers_list(service: ServiceSpec | None, form: Mapping[str, object], language: str) -> list[Answer]:
    """The answers in form order with their questions; a choice reads as its label."""
    if service is None:
        return [Answer(name, str(value)) for name, value in form.items()]
    shown = []
    for spec in service.fields:
        if spec.name not in form:
            continue
        shown.append(Answer(localized(spec.label, language), answer_text(spec, form[spec.name], language)))
    return shown


def answer_text(spec: FormField, value: object, language: str) -> str:
    """An answer as people read it: a choice as its label."""
    choice = next((c for c in spec.validation.choices if c.value == value), None)
    return localized(choice.label, language) if choice else str(value)


def attachments_of(session: Session, application: Application) -> list[Attachment]:
    """The documents of an application: the current ones, then those an answer to a
    return replaced (kept for the record), earliest replaced first."""
    found = repository.attachments_of(session, application.id)
    current = [a for a in found if a.replaced_at is None]
    replaced = sorted((a for a in found if a.replaced_at is not None), key=lambda a: (a.kind, a.uploaded_at))
    return current + replaced


def attachment_or_404(session: Session, application: Application, attachment_id: str) -> Attachment:
    for attachment in repository.attachments_of(session, application.id):
        if attachment.id == attachment_id:
            return attachment
    raise NotFound("no such attachment")


def office_names(kit: IntakeKit, language: str) -> dict[str, str]:
    return {code: localized(office.name, language) for code, office in kit.offices.items()}


def service_names(kit: IntakeKit, language: str) -> dict[str, str]:
    return {service.code: localized(service.name, language) for service in kit.catalogue}


def department_names(session: Session, language: str) -> dict[str, str]:
    return {d.code: str(getattr(d, f"name_{language}", "") or d.name_en) for d in list_departments(session)}


def attachment_labels(service: ServiceSpec | None, language: str) -> dict[str, str]:
    if service is None:
        return {}
    return {spec.kind: localized(spec.label, language) for spec in service.attachments}


def receipt_context(session: Session, kit: IntakeKit, application: Application, language: str) -> dict[str, Any]:
    """What ``receipt.html`` shows, whoever submitted (the citizen online or an operator);
    callers add their own links."""
    service = kit.catalogue.get(application.service_code)
    return {
        "application": application,
        "service_name": localized(service.name, language) if service else application.service_code,
        "time_limit": service.time_limit_working_days if service else None,
        "office_name": office_names(kit, language).get(application.office_code, application.office_code),
        "attachments": attachments_of(session, application),
        "attachment_labels": attachment_labels(service, language),
        "track_href": f"/track?number={quote(application.number, safe='')}",
    }


INLINE_TYPES = frozenset(EXTENSIONS)
"""What an officer may preview in the page: the types intake accepts, each proved by its
first bytes when it was uploaded (:func:`web.file_types.sniff`), so none is HTML."""
INLINE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
"""An attachment shown inside our page: it may be framed by our own pages only, and may
load nothing (a PDF's viewer draws it; an image needs nothing)."""


def attachment_response(store: ObjectStore, attachment: Attachment, *, inline: bool = False) -> Response:
    """A stored attachment: a download, or (``inline``) for the preview in the desk's page,
    so copies of citizens' identity documents do not pile up in an office's downloads."""
    filename = attachment.kind + EXTENSIONS.get(attachment.content_type, "")
    headers = {"Cache-Control": "private, no-store"}
    if inline and attachment.content_type in INLINE_TYPES:
        headers |= {
            "Content-Disposition": f'inline; filename="{filename}"',
            "Content-Security-Policy": INLINE_POLICY,
            "X-Frame-Options": "SAMEORIGIN",
        }
    else:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(attachment_bytes(store, attachment), media_type=attachment.content_type, headers=headers)


def days_left(clock: LegalClock, application: Application, today: date) -> int | None:
    """Working days left on the legal clock until the due date (negative: working days
    late); None when the clock does not run (decided, or returned to the citizen) or the
    holiday calendar does not cover the dates."""
    if application.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW):
        return None
    return working_days_left(clock, application.due_on, today)


def working_days_left(clock: LegalClock, due: date, today: date) -> int | None:
    """Working days from ``today`` to ``due`` (negative: working days late); None when the
    holiday calendar does not cover the dates."""
    calendar = clock.calendar
    try:
        if due >= today:
            return calendar.working_days_between(today, due)
        return -calendar.working_days_between(due, today)
    except CalendarError:
        return None
