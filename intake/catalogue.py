"""The service catalogue: the notified services a citizen can apply for, one YAML file each.

    catalogue/rev-income.yaml       what the form asks, which documents it needs, which
                                    certificate approval issues, the time limit in working
                                    days, who decides and who hears the appeals
    catalogue/holidays/2026.yaml    the calendar the time limit counts on (read by
                                    holidays.py, counted by working_days.py)
    catalogue/offices/punjab.yaml   the offices that receive applications (offices.py)

:func:`load_catalogue` reads and checks every file once, at start-up: unknown keys, bad
values, and whether each service's answers can always fill its certificate template
(every required template field mapped, from a required form field whose accepted
values the template accepts too). The first problem stops start-up with a
:class:`~intake.exceptions.CatalogueError` naming the file, the key path and the reason.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from intake.exceptions import CatalogueError
from issuer.templates import FieldSpec, TemplateSpec, validate_data
from sanad.config_file import ConfigFile
from sanad.errors import InvalidInput
from sanad.i18n import LocalizedText

FormFieldType = Literal["text", "number", "date", "choice", "mobile", "email"]
FORM_FIELD_TYPES: tuple[FormFieldType, ...] = ("text", "number", "date", "choice", "mobile", "email")

#: Media types an attachment may be declared to accept.
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
#: Largest attachment a service may accept: the locker's upload limit (10 MB).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Longest e-mail address (RFC 5321 path limit), the bound when a service sets none.
EMAIL_MAX_LENGTH = 254
#: A normalised mobile number: ten digits.
MOBILE_LENGTH = 10


@dataclass(frozen=True)
class Choice:
    """One answer of a ``choice`` field."""

    value: str
    """What the form submits and the application stores, e.g. ``son_of``."""
    label: LocalizedText
    """What the citizen reads."""


@dataclass(frozen=True)
class Validation:
    """The checks on one form field; which ones apply depends on its type."""

    max_length: int | None = None
    """``text`` (required there) and ``email``: most characters after normalisation."""
    min: int | None = None
    """``number``: smallest allowed value."""
    max: int | None = None
    """``number``: largest allowed value."""
    pattern: re.Pattern[str] | None = None
    """``text``: a regular expression the whole normalised value must match."""
    choices: tuple[Choice, ...] = ()
    """``choice``: the allowed answers, in the order the form offers them."""


@dataclass(frozen=True)
class FormField:
    """One question of an application form."""

    name: str
    """Key in the submitted values; lowercase ``snake_case``."""
    type: FormFieldType
    """``text``, ``number`` (a whole number), ``date`` (``YYYY-MM-DD``), ``choice``,
    ``mobile`` (an Indian mobile number, stored as ten digits) or ``email``."""
    required: bool
    """Whether an application without it is refused."""
    label: LocalizedText
    """The question as printed on the form."""
    help: LocalizedText | None
    """Optional guidance printed under the question."""
    validation: Validation
    """The checks :func:`intake.forms.validate_form` applies."""
    english_of: str | None = None
    """The earlier text field whose value this one spells in English (``relation_name``
    for ``relation_name_en``): the form suggests a spelling from it for the holder to
    confirm (:mod:`intake.transliteration`)."""


@dataclass(frozen=True)
class AttachmentSpec:
    """A document the citizen uploads with the application."""

    kind: str
    """Stable identifier, e.g. ``aadhaar``, ``ration-card``, ``affidavit``."""
    label: LocalizedText
    """What the citizen is asked to upload."""
    help: LocalizedText | None
    """Optional guidance, e.g. which documents count as proof of residence."""
    required: bool
    """Whether an application without it is refused."""
    accepted_types: tuple[str, ...]
    """Media types accepted: a subset of :data:`ATTACHMENT_TYPES`."""
    max_bytes: int
    """Largest file accepted, at most :data:`MAX_ATTACHMENT_BYTES`."""


@dataclass(frozen=True)
class CertificateRule:
    """What approving an application issues, and how its data is filled."""

    template: str
    """The certificate template (a type in ``templates/``)."""
    holder_field: str
    """The form field naming the certificate holder: a required text field that fills
    the template's own holder field."""
    data: Mapping[str, str]
    """Template field → the form field (or officer field) whose cleaned value fills it."""
    fixed: Mapping[str, object]
    """Template field → a constant the service always prints (e.g. the category of a
    Scheduled Caste certificate); checked against the template at load."""
    validity_days: int | None
    """Days from issue until the certificate lapses; ``None`` (``none`` in the file)
    for a certificate that does not lapse."""


@dataclass(frozen=True)
class ServiceSpec:
    """A notified service under the Right to Service Act, as one catalogue file declares it."""

    code: str
    """Stable code, e.g. ``rev-income``: the department code in lower case, a hyphen,
    the service; also the file name."""
    department: str
    """Code of the department that delivers it, e.g. ``REV``."""
    office_kind: str
    """The kind of office that handles applications, e.g. ``tehsil``."""
    name: LocalizedText
    """Name of the service as the catalogue lists it."""
    description: LocalizedText
    """One or two sentences for the citizen: what it is and who needs it."""
    fields: tuple[FormField, ...]
    """The form, in the order it is printed and checked."""
    officer_fields: tuple[FormField, ...]
    """Fields the deciding officer fills before approving (a registration number, a
    verification remark); never asked of the citizen, refused if a citizen sends them."""
    attachments: tuple[AttachmentSpec, ...]
    """Documents to upload; may be empty."""
    certificate: CertificateRule
    """The certificate approval issues."""
    time_limit_working_days: int
    """The notified time limit, counted in working days by :mod:`intake.working_days`."""
    designated_officer: str
    """Role that decides applications, e.g. ``tehsildar``."""
    first_appellate_authority: str
    """Role that hears the first appeal (or the escalation) when the time limit passes."""
    second_appellate_authority: str
    """Role that hears the second appeal."""
    fee_inr: int | None
    """Fee in rupees, or ``None`` when the catalogue declares none."""
    source: Path
    """The file it was read from, for error messages and operators."""


class Catalogue:
    """Every service, looked up by code in constant time; read-only once built."""

    def __init__(self, services: Mapping[str, ServiceSpec]) -> None:
        self._services: Mapping[str, ServiceSpec] = MappingProxyType(dict(services))
        by_department: dict[str, list[ServiceSpec]] = {}
        for service in self._services.values():
            by_department.setdefault(service.department, []).append(service)
        self._by_department = {dept: tuple(items) for dept, items in by_department.items()}

    @property
    def services(self) -> Mapping[str, ServiceSpec]:
        """Code → service, in code order."""
        return self._services

    def get(self, code: str) -> ServiceSpec | None:
        return self._services.get(code)

    def __getitem__(self, code: str) -> ServiceSpec:
        return self._services[code]

    def __contains__(self, code: object) -> bool:
        return code in self._services

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def by_department(self, department: str) -> tuple[ServiceSpec, ...]:
        """The services one department delivers, in code order."""
        return self._by_department.get(department, ())


# --- loading -----------------------------------------------------------------------

_TOP_KEYS = frozenset(
    {
        "code",
        "department",
        "office_kind",
        "name",
        "description",
        "fields",
        "officer_fields",
        "attachments",
        "certificate",
        "time_limit_working_days",
        "designated_officer",
        "first_appellate_authority",
        "second_appellate_authority",
        "fee_inr",
    }
)
_FIELD_KEYS = frozenset({"name", "type", "required", "label", "help", "validation", "english_of"})
_VALIDATION_KEYS = frozenset({"max_length", "min", "max", "pattern", "choices"})
_VALIDATION_BY_TYPE: Mapping[FormFieldType, frozenset[str]] = {
    "text": frozenset({"max_length", "pattern"}),
    "number": frozenset({"min", "max"}),
    "date": frozenset(),
    "choice": frozenset({"choices"}),
    "mobile": frozenset(),
    "email": frozenset({"max_length"}),
}
_CHOICE_KEYS = frozenset({"value", "label"})
_ATTACHMENT_KEYS = frozenset({"kind", "label", "help", "required", "accepted_types", "max_bytes"})
_CERTIFICATE_KEYS = frozenset({"template", "holder_field", "validity_days", "data", "fixed"})
#: Which form field types can fill which template field types.
_FILLS: Mapping[str, tuple[FormFieldType, ...]] = {
    "text": ("text", "mobile", "email"),
    "integer": ("number",),
    "date": ("date",),
    "enum": ("choice",),
}
_SERVICE_CODE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)+")
_DEPARTMENT_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")


def load_catalogue(directory: Path, templates: Mapping[str, TemplateSpec]) -> Catalogue:
    """Load every ``directory/*.yaml`` (and ``*.yml``) service file, keyed by code.

    ``templates`` are the loaded certificate templates (:func:`issuer.templates.load_templates`)
    each service is checked against. Subdirectories (``holidays/``) are not services.
    Raises :class:`CatalogueError` for the first problem; an empty catalogue is one.
    """
    if not directory.is_dir():
        raise CatalogueError(f"{directory}: catalogue directory does not exist")
    # By file name without the suffix: the catalogue's order is then the codes' order.
    paths = sorted(
        (p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()),
        key=lambda p: (p.stem, p.suffix),
    )
    if not paths:
        raise CatalogueError(f"{directory}: no service files (*.yaml)")
    services: dict[str, ServiceSpec] = {}
    # Each file builds a few hundred objects, which sets off the cyclic garbage collector
    # again and again, and each full pass walks every object alive: a fifth to a third of
    # the load time. Nothing built here is cyclic, so collection waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for path in paths:
            service = _ServiceReader(path, templates).read()
            earlier = services.get(service.code)
            if earlier is not None:
                raise CatalogueError(f"{path}: code: duplicate service code {service.code!r}, also in {earlier.source}")
            services[service.code] = service
    finally:
        if collecting:
            gc.enable()
    return Catalogue(services)


class _ServiceReader(ConfigFile):
    """Parses one service file; every error names the file and the key path."""

    error = CatalogueError

    def __init__(self, path: Path, templates: Mapping[str, TemplateSpec]) -> None:
        super().__init__(path)
        self.templates = templates

    def read(self) -> ServiceSpec:
        top = self.mapping(self.load(), "", _TOP_KEYS)

        code = self.string(self.need(top, "code", ""), "code")
        if not _SERVICE_CODE.fullmatch(code):
            self.fail("code", "must be lowercase words joined by hyphens, e.g. rev-income")
        if code != self.path.stem:
            self.fail("code", f"must equal the file name {self.path.stem!r}")
        department = self.string(self.need(top, "department", ""), "department")
        if not _DEPARTMENT_CODE.fullmatch(department):
            self.fail("department", "must be an upper-case department code such as REV")
        if not code.startswith(f"{department.lower()}-"):
            self.fail("code", f"must start with the department code in lower case: {department.lower()}-")
        office_kind = self.slug(self.need(top, "office_kind", ""), "office_kind")
        name = self.localized(self.need(top, "name", ""), "name")
        description = self.localized(self.need(top, "description", ""), "description")

        fields = self.fields(self.need(top, "fields", ""))
        officer_fields = self.officer_fields(top.get("officer_fields"), {f.name for f in fields})
        attachments = self.attachments(self.need(top, "attachments", ""))
        certificate = self.certificate(
            self.need(top, "certificate", ""), {f.name: f for f in (*fields, *officer_fields)}
        )

        time_limit = self.integer(self.need(top, "time_limit_working_days", ""), "time_limit_working_days", low=1)
        roles = [
            self.slug(self.need(top, key, ""), key)
            for key in ("designated_officer", "first_appellate_authority", "second_appellate_authority")
        ]
        if roles[1] == roles[0]:
            self.fail("first_appellate_authority", "must differ from the designated officer")
        if roles[2] in roles[:2]:
            self.fail("second_appellate_authority", "must differ from the designated officer and the first appellate")
        fee = None if top.get("fee_inr") is None else self.integer(top["fee_inr"], "fee_inr", low=0)

        return ServiceSpec(
            code=code,
            department=department,
            office_kind=office_kind,
            name=name,
            description=description,
            fields=fields,
            officer_fields=officer_fields,
            attachments=attachments,
            certificate=certificate,
            time_limit_working_days=time_limit,
            designated_officer=roles[0],
            first_appellate_authority=roles[1],
            second_appellate_authority=roles[2],
            fee_inr=fee,
            source=self.path,
        )

    # --- the form ----------------------------------------------------------------

    def fields(self, raw: object) -> tuple[FormField, ...]:
        fields: list[FormField] = []
        seen: set[str] = set()
        for i, item in enumerate(self.non_empty_list(raw, "fields")):
            field = self.field(item, f"fields[{i}]")
            if field.name in seen:
                self.fail(f"fields[{i}].name", f"duplicate field name {field.name!r}")
            if field.english_of is not None and not any(
                f.name == field.english_of and f.type == "text" for f in fields
            ):
                self.fail(f"fields[{i}].english_of", f"{field.english_of!r} is not an earlier text field of the form")
            seen.add(field.name)
            fields.append(field)
        return tuple(fields)

    def officer_fields(self, raw: object, form: set[str]) -> tuple[FormField, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail("officer_fields", "must be a list of fields, like fields")
        fields: list[FormField] = []
        for i, item in enumerate(raw):
            field = self.field(item, f"officer_fields[{i}]")
            if field.name in form or any(f.name == field.name for f in fields):
                self.fail(f"officer_fields[{i}].name", f"duplicate field name {field.name!r}")
            fields.append(field)
        return tuple(fields)

    def field(self, raw: object, where: str) -> FormField:
        item = self.mapping(raw, where, _FIELD_KEYS)
        name = self.snake_case(self.need(item, "name", where), f"{where}.name")
        field_type = self.one_of(self.need(item, "type", where), f"{where}.type", FORM_FIELD_TYPES)
        required = self.boolean(self.need(item, "required", where), f"{where}.required")
        label = self.localized(self.need(item, "label", where), f"{where}.label")
        help_text = None if item.get("help") is None else self.localized(item["help"], f"{where}.help")
        validation = self.validation(item.get("validation"), f"{where}.validation", field_type)
        english_of = (
            None if item.get("english_of") is None else self.snake_case(item["english_of"], f"{where}.english_of")
        )
        if english_of is not None and (field_type != "text" or validation.pattern is None):
            # Only a pattern keeps Gurmukhi out of a value the English paragraph prints.
            self.fail(f"{where}.english_of", "needs a text field declaring a pattern of English letters")
        return FormField(
            name=name,
            type=field_type,
            required=required,
            label=label,
            help=help_text,
            validation=validation,
            english_of=english_of,
        )

    def validation(self, raw: object, where: str, field_type: FormFieldType) -> Validation:
        item = {} if raw is None else self.mapping(raw, where, _VALIDATION_KEYS)
        for key in item:
            if key not in _VALIDATION_BY_TYPE[field_type]:
                self.fail(f"{where}.{key}", f"not allowed for {field_type} fields")

        max_length = (
            None if item.get("max_length") is None else self.integer(item["max_length"], f"{where}.max_length", low=1)
        )
        if field_type == "text" and max_length is None:
            self.fail(f"{where}.max_length", "is required for text fields: public input must be bounded")
        low, high = self.bounds(item, where)
        pattern = None if item.get("pattern") is None else self.pattern(item["pattern"], f"{where}.pattern")

        choices: tuple[Choice, ...] = ()
        if field_type == "choice":
            choices = self.choices(item.get("choices"), f"{where}.choices")
        return Validation(max_length=max_length, min=low, max=high, pattern=pattern, choices=choices)

    def choices(self, raw: object, where: str) -> tuple[Choice, ...]:
        choices: list[Choice] = []
        for i, item in enumerate(self.non_empty_list(raw, where, of="{value, label}")):
            entry = self.mapping(item, f"{where}[{i}]", _CHOICE_KEYS)
            value = self.string(self.need(entry, "value", f"{where}[{i}]"), f"{where}[{i}].value")
            if any(c.value == value for c in choices):
                self.fail(f"{where}[{i}].value", f"duplicate value {value!r}")
            choices.append(
                Choice(value, self.localized(self.need(entry, "label", f"{where}[{i}]"), f"{where}[{i}].label"))
            )
        return tuple(choices)

    # --- attachments ---------------------------------------------------------------

    def attachments(self, raw: object) -> tuple[AttachmentSpec, ...]:
        if not isinstance(raw, list):
            self.fail("attachments", "must be a list (empty when the service needs no documents)")
        specs: list[AttachmentSpec] = []
        for i, item in enumerate(raw):
            where = f"attachments[{i}]"
            entry = self.mapping(item, where, _ATTACHMENT_KEYS)
            kind = self.slug(self.need(entry, "kind", where), f"{where}.kind")
            if any(s.kind == kind for s in specs):
                self.fail(f"{where}.kind", f"duplicate kind {kind!r}")
            label = self.localized(self.need(entry, "label", where), f"{where}.label")
            help_text = None if entry.get("help") is None else self.localized(entry["help"], f"{where}.help")
            required = self.boolean(self.need(entry, "required", where), f"{where}.required")
            types: list[str] = []
            raw_types = self.need(entry, "accepted_types", where)
            for j, raw_type in enumerate(
                self.non_empty_list(raw_types, f"{where}.accepted_types", of=", ".join(ATTACHMENT_TYPES))
            ):
                media_type = self.one_of(raw_type, f"{where}.accepted_types[{j}]", ATTACHMENT_TYPES)
                if media_type in types:
                    self.fail(f"{where}.accepted_types[{j}]", f"duplicate type {media_type!r}")
                types.append(media_type)
            max_bytes = self.integer(self.need(entry, "max_bytes", where), f"{where}.max_bytes", low=1)
            if max_bytes > MAX_ATTACHMENT_BYTES:
                self.fail(f"{where}.max_bytes", f"must be at most {MAX_ATTACHMENT_BYTES} (10 MB)")
            specs.append(AttachmentSpec(kind, label, help_text, required, tuple(types), max_bytes))
        return tuple(specs)

    # --- the certificate -----------------------------------------------------------

    def certificate(self, raw: object, form: Mapping[str, FormField]) -> CertificateRule:
        entry = self.mapping(raw, "certificate", _CERTIFICATE_KEYS)
        template_type = self.string(self.need(entry, "template", "certificate"), "certificate.template")
        spec = self.templates.get(template_type)
        if spec is None:
            known = ", ".join(sorted(self.templates)) or "none"
            self.fail("certificate.template", f"unknown template {template_type!r}; known: {known}")
        template_fields = {f.name: f for f in spec.fields}

        validity = entry.get("validity_days")
        if validity is None:
            self.fail("certificate.validity_days", "is required: a number of days, or none")
        validity_days = None if validity == "none" else self.integer(validity, "certificate.validity_days", low=1)

        raw_data = self.need(entry, "data", "certificate")
        if not isinstance(raw_data, dict) or not raw_data:
            self.fail("certificate.data", "must map template fields to form fields")
        data: dict[str, str] = {}
        for target, source in raw_data.items():
            where = f"certificate.data.{target}"
            template_field = template_fields.get(target) if isinstance(target, str) else None
            if template_field is None:
                self.fail(where, f"not a field of template {spec.type!r}")
            if not isinstance(source, str) or source not in form:
                self.fail(where, f"{source!r} is not a form field or an officer field")
            self.check_fills(form[source], template_field, where)
            data[target] = source

        raw_fixed = entry.get("fixed")
        fixed: dict[str, object] = {}
        if raw_fixed is not None:
            if not isinstance(raw_fixed, dict):
                self.fail("certificate.fixed", "must map template fields to constant values")
            for target, value in raw_fixed.items():
                where = f"certificate.fixed.{target}"
                if target not in template_fields:
                    self.fail(where, f"not a field of template {spec.type!r}")
                if target in data:
                    self.fail(where, "is also filled from the form (certificate.data)")
                fixed[target] = self.fixed_value(spec, str(target), value, where)

        for template_field in spec.fields:
            if template_field.required and template_field.name not in data and template_field.name not in fixed:
                self.fail("certificate.data", f"does not fill the template's required field {template_field.name!r}")

        holder = self.string(self.need(entry, "holder_field", "certificate"), "certificate.holder_field")
        holder_field = form.get(holder)
        if holder_field is None or holder_field.type != "text" or not holder_field.required:
            self.fail("certificate.holder_field", f"{holder!r} is not a required text form field")
        if data.get(spec.holder_field) != holder:
            self.fail(
                "certificate.holder_field",
                f"must be the form field that fills the template's holder field {spec.holder_field!r}",
            )

        # Template field order: the order the certificate data is stored in.
        ordered = {f.name: data[f.name] for f in spec.fields if f.name in data}
        return CertificateRule(
            template=spec.type,
            holder_field=holder,
            data=MappingProxyType(ordered),
            fixed=MappingProxyType(fixed),
            validity_days=validity_days,
        )

    def check_fills(self, source: FormField, target: FieldSpec, where: str) -> None:
        """Refuse a mapping through which a valid form could produce invalid certificate data."""
        compatible = _FILLS[target.type]
        if source.type not in compatible:
            self.fail(
                where,
                f"form field {source.name!r} ({source.type}) cannot fill template field {target.name!r} "
                f"({target.type}); it takes {' or '.join(compatible)}",
            )
        if target.required and not source.required:
            self.fail(where, f"form field {source.name!r} is optional but the template requires {target.name!r}")
        rules = source.validation
        if target.type == "text":
            if source.type == "mobile":
                longest = MOBILE_LENGTH
            elif source.type == "email":
                longest = rules.max_length or EMAIL_MAX_LENGTH
            else:
                longest = rules.max_length or 0  # always set for text: the loader insists
            if target.max_length is not None and longest > target.max_length:
                self.fail(
                    where,
                    f"form field {source.name!r} allows {longest} characters "
                    f"but the template allows {target.max_length}",
                )
            if target.pattern is not None and (rules.pattern is None or rules.pattern.pattern != target.pattern):
                self.fail(
                    where,
                    f"the template requires the pattern {target.pattern}: only a text form field declaring "
                    "the same pattern can fill it",
                )
        elif target.type == "integer":
            if target.min is not None and (rules.min is None or rules.min < target.min):
                self.fail(
                    where, f"form field {source.name!r} must not allow values below the template's minimum {target.min}"
                )
            if target.max is not None and (rules.max is None or rules.max > target.max):
                self.fail(
                    where, f"form field {source.name!r} must not allow values above the template's maximum {target.max}"
                )
        elif target.type == "enum":
            for choice in rules.choices:
                if choice.value not in target.choices:
                    self.fail(
                        where,
                        f"choice {choice.value!r} of form field {source.name!r} is not one of the template's: "
                        f"{', '.join(target.choices)}",
                    )

    def fixed_value(self, spec: TemplateSpec, target: str, value: object, where: str) -> object:
        """Check a constant with the issuer's own rules, so it can never fail at issue time."""
        only_target = replace(spec, fields=tuple(f for f in spec.fields if f.name == target))
        try:
            cleaned = validate_data(only_target, {target: value})
        except InvalidInput as exc:
            self.fail(where, exc.errors[0].message)
        if target not in cleaned:
            self.fail(where, "must not be blank")
        return cleaned[target]
