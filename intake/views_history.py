"""An application's history as people read it: the timeline, with what each return asked
for and what each answer to it changed (:mod:`intake.returns`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from intake import repository
from intake.catalogue import ServiceSpec
from intake.i18n import MESSAGES
from intake.models import Application, ApplicationEvent
from intake.views_parts import answer_text
from web.i18n import Translate, localized

ACTORS = {"citizen": "actor.citizen", "citizen, online": "actor.citizen_online", "system": "actor.system"}
"""Timeline actors written by the service in English that the pages translate; names stay as written."""


@dataclass(frozen=True)
class Step:
    """One line of the timeline."""

    at: datetime
    kind: str
    title: str
    actor: str
    remarks: str | None
    details: tuple[str, ...] = ()
    """What a return asked for, or what the answer changed, one line each."""


def timeline(
    session: Session,
    application: Application,
    language: str,
    service: ServiceSpec | None = None,
    *,
    staff: bool = False,
) -> list[Step]:
    """The timeline in ``language``. ``staff`` pages also show the answers an answer to a
    return changed, before and after; the citizen's and the public ones name the fields."""
    t = MESSAGES.translator(language)
    steps = []
    for event in repository.events_of(session, application.id):
        actor = t(ACTORS[event.actor]) if event.actor in ACTORS else event.actor
        # The issuing note names the document id; the pages link the certificate instead.
        remarks = None if event.kind == "issued" else event.remarks
        details = _details(event, service, language, t, staff) if event.details else ()
        steps.append(Step(event.at, event.kind, t(f"event.{event.kind}"), actor, remarks, details))
    return steps


def _details(
    event: ApplicationEvent, service: ServiceSpec | None, language: str, t: Translate, staff: bool
) -> tuple[str, ...]:
    details: Mapping[str, Any] = event.details or {}
    questions = {f.name: f for f in service.fields} if service else {}
    documents = {a.kind: localized(a.label, language) for a in service.attachments} if service else {}

    def question(name: str) -> str:
        return localized(questions[name].label, language) if name in questions else name

    def names(items: list[str]) -> str:
        return ", ".join(items)

    lines = []
    if event.kind == "returned":
        if details.get("fields"):
            lines.append(t("step.asked_fields", names=names([question(n) for n in details["fields"]])))
        if details.get("attachments"):
            lines.append(
                t("step.asked_attachments", names=names([documents.get(k, k) for k in details["attachments"]]))
            )
    elif event.kind == "penalty":
        officer = str(details.get("officer", "")).replace("-", " ")
        lines.append(t("step.penalty", amount=details.get("amount_inr"), officer=officer))
    elif event.kind == "resubmitted":
        changed = [str(n) for n in details.get("fields", ())]
        if changed and staff:
            previous, current = details.get("previous", {}), details.get("current", {})
            for name in changed:
                lines.append(
                    t(
                        "step.changed_value",
                        label=question(name),
                        before=_answer(questions.get(name), previous.get(name), language, t),
                        after=_answer(questions.get(name), current.get(name), language, t),
                    )
                )
        elif changed:
            lines.append(t("step.corrected", names=names([question(n) for n in changed])))
        uploaded = list(details.get("attachments", ()))
        replaced = [documents.get(a["kind"], a["kind"]) for a in uploaded if a.get("replaced")]
        added = [documents.get(a["kind"], a["kind"]) for a in uploaded if not a.get("replaced")]
        if replaced:
            lines.append(t("step.replaced", names=names(replaced)))
        if added:
            lines.append(t("step.added", names=names(added)))
    return tuple(lines)


def _answer(spec: Any, value: object, language: str, t: Translate) -> str:
    if value is None:
        return t("step.not_given")
    return answer_text(spec, value, language) if spec is not None else str(value)
