"""The intake API's request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intake.catalogue import ServiceSpec
from intake.models import Application, ApplicationEvent, Attachment
from intake.offices import Office
from intake.pendency import PendencyRow
from intake.returns import MAX_MARKS
from sanad.schemas import Localized


class FieldRead(BaseModel):
    name: str
    type: str
    required: bool
    label: Localized
    help: Localized | None
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    choices: list[dict[str, Any]] = Field(default_factory=list)


class AttachmentSpecRead(BaseModel):
    kind: str
    label: Localized
    required: bool
    accepted_types: list[str]
    max_bytes: int


class ServiceRead(BaseModel):
    code: str
    department: str
    office_kind: str
    name: Localized
    description: Localized
    time_limit_working_days: int
    designated_officer: str
    first_appellate_authority: str
    second_appellate_authority: str
    fee_inr: int | None
    certificate: str
    fields: list[FieldRead]
    attachments: list[AttachmentSpecRead]

    @classmethod
    def of(cls, service: ServiceSpec) -> ServiceRead:
        return cls(
            code=service.code,
            department=service.department,
            office_kind=service.office_kind,
            name=Localized.of(service.name),
            description=Localized.of(service.description),
            time_limit_working_days=service.time_limit_working_days,
            designated_officer=service.designated_officer,
            first_appellate_authority=service.first_appellate_authority,
            second_appellate_authority=service.second_appellate_authority,
            fee_inr=service.fee_inr,
            certificate=service.certificate.template,
            fields=[
                FieldRead(
                    name=f.name,
                    type=f.type,
                    required=f.required,
                    label=Localized.of(f.label),
                    help=Localized.of(f.help) if f.help else None,
                    max_length=f.validation.max_length,
                    min=f.validation.min,
                    max=f.validation.max,
                    choices=[{"value": c.value, "label": Localized.of(c.label)} for c in f.validation.choices],
                )
                for f in service.fields
            ],
            attachments=[
                AttachmentSpecRead(
                    kind=a.kind,
                    label=Localized.of(a.label),
                    required=a.required,
                    accepted_types=list(a.accepted_types),
                    max_bytes=a.max_bytes,
                )
                for a in service.attachments
            ],
        )


class ServiceSummary(BaseModel):
    code: str
    department: str
    name: Localized
    time_limit_working_days: int

    @classmethod
    def of(cls, service: ServiceSpec) -> ServiceSummary:
        return cls(
            code=service.code,
            department=service.department,
            name=Localized.of(service.name),
            time_limit_working_days=service.time_limit_working_days,
        )


class OfficeRead(BaseModel):
    code: str
    department: str
    kind: str
    district: str
    name: Localized

    @classmethod
    def of(cls, office: Office) -> OfficeRead:
        return cls(
            code=office.code,
            department=office.department,
            kind=office.kind,
            district=office.district,
            name=Localized.of(office.name),
        )


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    remarks: str | None
    details: dict[str, Any] | None = Field(
        default=None,
        description="A return: the `fields` and `attachments` it asks the citizen to change. "
        "The answer: the `fields` it changed (their `previous` and `current` answers) and its `attachments` "
        "(`kind`, `id`, and the id of the attachment it `replaced`, or null when added).",
    )

    @classmethod
    def of(cls, event: ApplicationEvent) -> TimelineEntry:
        return cls(at=event.at, kind=event.kind, actor=event.actor, remarks=event.remarks, details=event.details)


class AttachmentRead(BaseModel):
    id: str
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    replaced_at: datetime | None = Field(
        default=None, description="When an answer to a return replaced it; a replaced file stays listed."
    )
    replaced_by: str | None = Field(default=None, description="The id of the attachment that replaced it.")

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentRead:
        return cls(
            id=attachment.id,
            kind=attachment.kind,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            uploaded_at=attachment.uploaded_at,
            replaced_at=attachment.replaced_at,
            replaced_by=attachment.replaced_by,
        )


class ApplicationSummary(BaseModel):
    number: str
    service: str
    office: str
    status: str
    applicant_name: str
    submitted_at: datetime
    due_on: date
    overdue: bool
    escalation_level: int
    version: int

    @classmethod
    def of(cls, application: Application, today: date) -> ApplicationSummary:
        return cls(
            number=application.number,
            service=application.service_code,
            office=application.office_code,
            status=application.status,
            applicant_name=application.applicant_name,
            submitted_at=application.submitted_at,
            due_on=application.due_on,
            overdue=application.status in ("submitted", "under_review") and application.due_on < today,
            escalation_level=application.escalation_level,
            version=application.version,
        )


class ReturnRequest(BaseModel):
    """What a return asks for: only these may change in the answer."""

    remarks: str | None
    fields: list[str]
    """Form fields to correct."""
    attachments: list[str]
    """Kinds of document to upload (replacing the one sent, or adding one)."""


class ApplicationRead(ApplicationSummary):
    channel: str
    language: str
    mobile: str
    form: dict[str, Any]
    officer_values: dict[str, Any] | None = Field(
        default=None, description="What the deciding officer filled in the service's officer fields on approval."
    )
    document_id: str | None
    verify_url: str | None
    decision_reason: str | None
    return_request: ReturnRequest | None = Field(
        default=None, description="While the application is returned: what the citizen must change."
    )
    attachments: list[AttachmentRead]
    timeline: list[TimelineEntry]


Mark = Annotated[str, Field(max_length=64)]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["review", "approve", "reject", "return"]
    remarks: str | None = Field(default=None, max_length=2000, description="Required to reject or return.")
    version: int | None = Field(
        default=None, description="The version you read; a different current version answers 409."
    )
    fields: list[Mark] = Field(
        default_factory=list,
        max_length=MAX_MARKS,
        description="A return only: the form fields the citizen must correct (names from the service's form).",
    )
    attachments: list[Mark] = Field(
        default_factory=list,
        max_length=MAX_MARKS,
        description="A return only: the kinds of document the citizen must upload, replacing or adding "
        "(from the service's declared attachments).",
    )
    officer_values: dict[str, Any] = Field(
        default_factory=dict,
        max_length=MAX_MARKS,
        description="An approval only: the service's officer fields (catalogue `officer_fields`, e.g. a "
        "property ID), checked with the same rules as the citizen's answers and printed on the certificate.",
    )


class ResubmissionCreate(BaseModel):
    """The answer to a return as JSON (multipart is taken too, with files)."""

    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] | None = Field(
        default=None,
        description="New answers to the fields the return marked; answers to other fields are "
        "refused unless they equal the current ones (the whole form may be sent back).",
    )
    remarks: str | None = Field(default=None, max_length=2000)


class StaffSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class StaffSessionRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name)
    role: str
    full_name: str


class PendencyLine(BaseModel):
    department: str
    office: str
    service: str
    open: int
    open_by_status: dict[str, int]
    overdue: int
    due_soon: int
    disposed: int
    average_disposal_working_days: float | None
    p90_disposal_working_days: int | None
    first_appeals: int = Field(description="Pending first appeals.")
    second_appeals: int = Field(description="Pending second appeals, to the commission.")
    appeals_overdue: int = Field(description="Pending appeals, first or second, past their own time limit.")

    @classmethod
    def of(cls, row: PendencyRow) -> PendencyLine:
        return cls(
            department=row.department,
            office=row.office,
            service=row.service,
            open=row.open,
            open_by_status=row.open_by_status,
            overdue=row.overdue,
            due_soon=row.due_soon,
            disposed=row.disposed,
            average_disposal_working_days=row.average_disposal_days,
            p90_disposal_working_days=row.p90_disposal_days,
            first_appeals=row.first_appeals,
            second_appeals=row.second_appeals,
            appeals_overdue=row.appeals_overdue,
        )


class PendencyRead(BaseModel):
    today: date
    since_month: str
    rows: list[PendencyLine]
    totals: PendencyLine
