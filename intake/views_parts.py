"""Pieces the intake pages share: the application form generated from a catalogue entry,
what a posted form holds, submitting it (with every refusal turned into messages next to
the fields), and an application's answers and timeline as people read them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from intake import applications, repository
from intake.applications import Applicant, IntakeKit, UploadedFile
from intake.catalogue import ServiceSpec
from intake.i18n import MESSAGES
from intake.models import Application, Attachment
from intake.offices import Office
from intake.views_common import now
from sanad.departments import list_departments
from sanad.errors import BadRequest, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from sanad.storage import ObjectStore
from web.i18n import localized

FIELD_PREFIX = "field."
"""Form answers are posted as ``field.<name>`` so they never clash with ``office`` or ``csrf``."""
ATTACHMENT_PREFIX = "attachment."
"""Files are posted as ``attachment.<kind>``, as the API takes them."""
MAX_FILES = 20
MAX_FIELDS = 80
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
ACTORS = {"citizen": "actor.citizen", "citizen, online": "actor.citizen_online", "system": "actor.system"}
"""Timeline actors written by the service in English that the pages translate; names stay as written."""


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


@dataclass(frozen=True)
class OfficeView:
    code: str
    name: str


@dataclass(frozen=True)
class Rejection:
    """Why a posted form was not accepted: messages next to fields, and the rest on top."""

    status_code: int
    by_field: dict[str, str] = field(default_factory=dict)
    """``<field name>``, ``office``, ``attachment.<kind>`` or ``citizen_mobile`` → message."""
    general: list[str] = field(default_factory=list)


def size_text(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


def type_names(accepted: Sequence[str]) -> str:
    return ", ".join(media_type.split("/")[1].upper() for media_type in accepted)


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
    errors = rejection.by_field if rejection else {}
    fields = [
        FieldView(
            name=spec.name,
            input_name=FIELD_PREFIX + spec.name,
            input_id=f"field-{spec.name}",
            type=spec.type,
            label=localized(spec.label, language),
            help=localized(spec.help, language) if spec.help else None,
            required=spec.required,
            value=answers.get(spec.name, ""),
            error=errors.get(spec.name),
            max_length=spec.validation.max_length,
            choices=tuple(ChoiceView(c.value, localized(c.label, language)) for c in spec.validation.choices),
        )
        for spec in service.fields
    ]
    attachments = [
        AttachmentView(
            kind=spec.kind,
            input_name=ATTACHMENT_PREFIX + spec.kind,
            input_id=f"attachment-{spec.kind}",
            label=localized(spec.label, language),
            help=localized(spec.help, language) if spec.help else None,
            required=spec.required,
            accept=",".join(
                [*spec.accepted_types, *dict.fromkeys(EXTENSIONS[t] for t in spec.accepted_types if t in EXTENSIONS)]
            ),
            types=type_names(spec.accepted_types),
            limit=size_text(spec.max_bytes),
            error=errors.get(ATTACHMENT_PREFIX + spec.kind),
        )
        for spec in service.attachments
    ]
    offices = [OfficeView(o.code, localized(o.name, language)) for o in offices_for(kit, service)]
    if not office and len(offices) == 1:
        office = offices[0].code
    return {
        "service": service,
        "fields": fields,
        "attachments": attachments,
        "offices": offices,
        "office": office,
        "office_error": errors.get("office"),
        "rejection": rejection,
    }


# --- what a posted form holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedForm:
    fields: Mapping[str, str]
    files: tuple[UploadedFile, ...]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


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
    """Each refusal next to its field. The form's own messages are already in ``language``
    (:mod:`intake.forms`); the office and attachment ones are the service's English, so
    the page says them in its own words."""
    t = MESSAGES.translator(language)
    questions = {spec.name for spec in service.fields}
    kinds = {spec.kind for spec in service.attachments}
    rejection = Rejection(error.status_code)
    for problem in error.errors:
        kind = problem.field.removeprefix("attachments.")
        if problem.field in questions:
            rejection.by_field[problem.field] = problem.message
        elif problem.field == "office":
            rejection.by_field["office"] = t("apply.error.office")
        elif problem.field.startswith("attachments.") and kind in kinds:
            rejection.by_field[ATTACHMENT_PREFIX + kind] = t("apply.error.attachment_required")
        else:
            rejection.general.append(t("apply.error.form"))
    return rejection


def _file_refusal(service: ServiceSpec, error: PayloadTooLarge | UnsupportedMediaType, language: str) -> Rejection:
    """413 or 415 next to the attachment at fault (the service names its kind first)."""
    t = MESSAGES.translator(language)
    kind = error.message.split(":", 1)[0]
    spec = next((a for a in service.attachments if a.kind == kind), None)
    if spec is None:
        message = t("error.too_large" if isinstance(error, PayloadTooLarge) else "error.wrong_type")
        return Rejection(error.status_code, general=[message])
    if isinstance(error, PayloadTooLarge):
        message = t("apply.error.too_large", limit=size_text(spec.max_bytes))
    else:
        message = t("apply.error.wrong_type", types=type_names(spec.accepted_types))
    return Rejection(error.status_code, by_field={ATTACHMENT_PREFIX + spec.kind: message})


def submit_posted(
    session: Session,
    kit: IntakeKit,
    service: ServiceSpec,
    applicant: Applicant,
    posted: PostedForm,
) -> Application | Rejection:
    """Submit a posted form through :func:`intake.applications.submit`; a refusal the page
    can show next to the fields comes back as a :class:`Rejection`."""
    try:
        return applications.submit(
            session,
            kit,
            applicant,
            service_code=service.code,
            office_code=posted.get("office"),
            form=answers_of(service, posted),
            files=posted.files,
            now=now(),
        )
    except InvalidInput as e:
        return explain(e, service, applicant.language)
    except (PayloadTooLarge, UnsupportedMediaType) as e:
        return _file_refusal(service, e, applicant.language)


# --- an application as people read it ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


@dataclass(frozen=True)
class Step:
    """One line of the timeline."""

    at: datetime
    kind: str
    title: str
    actor: str
    remarks: str | None


def answers_list(service: ServiceSpec | None, form: Mapping[str, object], language: str) -> list[Answer]:
    """The answers in form order with their questions; a choice reads as its label."""
    if service is None:
        return [Answer(name, str(value)) for name, value in form.items()]
    shown = []
    for spec in service.fields:
        if spec.name not in form:
            continue
        value = form[spec.name]
        choice = next((c for c in spec.validation.choices if c.value == value), None)
        shown.append(
            Answer(localized(spec.label, language), localized(choice.label, language) if choice else str(value))
        )
    return shown


def timeline(session: Session, application: Application, language: str) -> list[Step]:
    t = MESSAGES.translator(language)
    steps = []
    for event in repository.events_of(session, application.id):
        actor = t(ACTORS[event.actor]) if event.actor in ACTORS else event.actor
        # The issuing note names the document id; the pages link the certificate instead.
        remarks = None if event.kind == "issued" else event.remarks
        steps.append(Step(event.at, event.kind, t(f"event.{event.kind}"), actor, remarks))
    return steps


def attachments_of(session: Session, application: Application) -> list[Attachment]:
    return repository.attachments_of(session, application.id)


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


def attachment_response(store: ObjectStore, attachment: Attachment) -> Response:
    """A stored attachment, always as a download (never rendered by the browser in our origin)."""
    filename = attachment.kind + EXTENSIONS.get(attachment.content_type, "")
    return Response(
        store.get(attachment.storage_key),
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
