"""Returning an application for corrections, and checking the answer.

The officer marks exactly which answers the citizen must correct and which documents
they must upload (replacing the one sent, or adding one the service declares). The
marks are stored with the ``returned`` event of the timeline, in its ``details``::

    {"fields": ["annual_income"], "attachments": ["aadhaar", "income-proof"]}

The answer may change only what was marked. What it changed is stored with the
``resubmitted`` event, so the officer sees it::

    {"fields": ["annual_income"], "previous": {"annual_income": 240000},
     "current": {"annual_income": 180000},
     "attachments": [{"kind": "aadhaar", "id": "<new>", "replaced": "<old>"}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from intake.catalogue import ServiceSpec
from intake.form_messages import Language, message
from intake.forms import label_of, validate_form
from intake.models import ApplicationEvent, Attachment
from sanad.errors import FieldError, InvalidInput

MAX_MARKS = 100
"""More marks than any form has fields: a bound on what a decision may carry."""


@dataclass(frozen=True)
class ReturnMarks:
    """What a return asks the citizen to change, in the catalogue's order."""

    fields: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fields or self.attachments)

    def details(self) -> dict[str, Any]:
        return {"fields": list(self.fields), "attachments": list(self.attachments)}


def check_marks(service: ServiceSpec, fields: Sequence[str], attachments: Sequence[str]) -> ReturnMarks:
    """The marks of a return, refused (422) if they name anything ``service`` does not declare."""
    field_names = [f.name for f in service.fields]
    kinds = [a.kind for a in service.attachments]
    problems = [
        *_unknown("fields", fields, field_names, f"not fields of {service.code}"),
        *_unknown("attachments", attachments, kinds, f"not documents {service.code} declares"),
    ]
    if problems:
        raise InvalidInput(problems)
    return ReturnMarks(
        fields=tuple(name for name in field_names if name in fields),
        attachments=tuple(kind for kind in kinds if kind in attachments),
    )


def _unknown(where: str, names: Sequence[str], known: Sequence[str], what: str) -> list[FieldError]:
    unknown = sorted(set(names) - set(known))
    if not unknown:
        return []
    listed = ", ".join(name[:64] for name in unknown[:10])
    return [FieldError(where, f"{what}: {listed}; the known ones are {', '.join(known) or 'none'}")]


def marks_of(events: Sequence[ApplicationEvent]) -> ReturnMarks:
    """The marks of the latest return on a timeline (none for a return without marks)."""
    returned = next((e for e in reversed(events) if e.kind == "returned"), None)
    details = (returned.details if returned else None) or {}
    return ReturnMarks(
        fields=tuple(str(n) for n in details.get("fields", ())),
        attachments=tuple(str(k) for k in details.get("attachments", ())),
    )


@dataclass(frozen=True)
class Corrected:
    """The form after an answer to a return."""

    form: dict[str, object]
    """Every answer, in form order."""
    changed: tuple[str, ...] = ()
    """The marked fields whose answer changed."""
    previous: dict[str, object] = field(default_factory=dict)
    """Their answers before (``None`` for one not given)."""


_INVALID = object()


def correct(
    service: ServiceSpec,
    form: Mapping[str, object],
    marks: ReturnMarks,
    answers: object,
    language: Language,
    today: date | None = None,
) -> tuple[Corrected, list[FieldError]]:
    """Apply ``answers`` (field → new answer; ``None``: none sent) to ``form``.

    Only marked fields may change; they are checked as on submission. An answer to a
    field that was not marked is refused unless it equals the current one (a client may
    send the whole form back). Returns the corrected form and the problems, all at once.
    """
    if answers is None:
        return Corrected(dict(form)), []
    if not isinstance(answers, Mapping):
        return Corrected(dict(form)), [FieldError("form", message("not_object", language))]
    specs = {f.name: f for f in service.fields}
    problems: list[FieldError] = []
    for key, value in answers.items():
        spec = specs.get(key)
        if key in marks.fields:
            continue
        if spec is None:
            problems.append(FieldError(str(key), message("unknown", language, label=str(key)[:64])))
        elif _cleaned(service, key, value, language, today) != form.get(key):
            problems.append(FieldError(key, message("not_marked", language, label=label_of(spec, language))))
    sent = {key: value for key, value in answers.items() if key in marks.fields}
    try:
        cleaned = validate_form(service, sent, language, only=set(sent), today=today)
    except InvalidInput as e:
        problems.extend(e.errors)
        cleaned = {}
    if problems:
        return Corrected(dict(form)), sorted(problems, key=lambda p: _position(service, p.field))
    merged = {key: value for key, value in form.items() if key not in sent}
    merged.update(cleaned)
    ordered = {f.name: merged[f.name] for f in service.fields if f.name in merged}
    changed = tuple(name for name in marks.fields if form.get(name) != ordered.get(name))
    return Corrected(ordered, changed, {name: form.get(name) for name in changed}), []


def answer_details(
    corrected: Corrected, added: Sequence[Attachment], replaced: Mapping[str, Attachment]
) -> dict[str, Any]:
    """What an answer changed, for its timeline entry: the fields with their earlier and
    new answers, and each new document with the one it replaced (``None``: added)."""
    details: dict[str, Any] = {}
    if corrected.changed:
        details["fields"] = list(corrected.changed)
        details["previous"] = dict(corrected.previous)
        details["current"] = {name: corrected.form.get(name) for name in corrected.changed}
    if added:
        details["attachments"] = [
            {"kind": a.kind, "id": a.id, "replaced": replaced[a.kind].id if a.kind in replaced else None} for a in added
        ]
    return details


def _cleaned(service: ServiceSpec, name: str, value: object, language: Language, today: date | None) -> object:
    try:
        return validate_form(service, {name: value}, language, only={name}, today=today).get(name)
    except InvalidInput:
        return _INVALID


def _position(service: ServiceSpec, name: str) -> int:
    return next((i for i, f in enumerate(service.fields) if f.name == name), len(service.fields))
