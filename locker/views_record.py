"""The record page: what the audit log says about the citizen's documents and consents —
what happened, when, and by whom (a department, a share link, a service the citizen
allowed, or the citizen). Staff appear by role, never by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from audit.entries import Entry
from audit.reading import entries_about
from issuer.service import HolderFilter, department_name, holder_documents
from locker import oauth_repository
from locker.dependencies import Context, LockerContext
from locker.holder import Holder
from locker.views_common import PAGES, SignedIn
from sanad.dependencies import DbSession
from web.i18n import localized, pick_language

router = APIRouter(prefix="/locker", include_in_schema=False, route_class=PAGES.route_class)

RECORD_LENGTH = 200
"""Newest entries shown on the page."""
DOCUMENTS_LOOKED_AT = 500
"""The holder's newest documents whose entries are listed."""

#: Actions the page has words for; others are shown by their name.
KNOWN_ACTIONS = frozenset(
    {
        "document.issue",
        "document.revoke",
        "locker.mobile_change",
        "share.create",
        "share.revoke",
        "share.view",
        "share.download",
        "requester.view",
        "requester.download",
        "consent.grant",
        "consent.withdraw",
    }
)


@dataclass(frozen=True)
class RecordRow:
    at: datetime
    action: str
    known: bool
    """Whether ``record.action.<action>`` has words for it."""
    by: str
    """``you``, ``share``, ``department``, ``requester`` or ``staff``."""
    by_name: str | None
    """The department's name, the requester's name, or the staff member's role."""
    document_id: str | None
    document_title: str | None
    index: int
    """The entry's place in the log (``sanad audit prove INDEX``)."""


def _who(entry: Entry, departments: dict[str, str]) -> tuple[str, str | None]:
    kind, _, name = entry.actor.partition(":")
    if kind == "citizen":
        return "you", None
    if kind == "department":
        return "department", departments.get(name, name)
    if kind == "share":
        return "share", None
    if kind == "requester":
        return "requester", name
    role = entry.details.get("role")
    return "staff", str(role).replace("_", " ") if role else None


def record_rows(session: Session, context: LockerContext, holder: Holder, language: str) -> list[RecordRow]:
    held = holder_documents(session, holder.mobile, HolderFilter(), limit=DOCUMENTS_LOOKED_AT)
    titles: dict[str, str] = {}
    departments: dict[str, str] = {}
    for document, department in held:
        spec = context.kit.templates.get(document.type)
        titles[document.id] = localized(spec.title, language) if spec else document.type
        departments[department.code] = localized(department_name(department), language)
    subjects = [f"document:{doc_id}" for doc_id in titles]
    subjects += [f"consent:{grant_id}" for grant_id in oauth_repository.grant_ids_of(session, holder.account_id)]
    subjects.append(f"locker:{holder.account_id}")  # the locker itself: its number changes
    rows = []
    for entry in entries_about(session, subjects, limit=RECORD_LENGTH):
        by, by_name = _who(entry, departments)
        document_id = entry.subject.removeprefix("document:") if entry.subject.startswith("document:") else None
        if entry.action == "consent.grant":  # given by the citizen: the page names to whom
            by, by_name = "requester", str(entry.details.get("name") or entry.details.get("requester", ""))
        rows.append(
            RecordRow(
                at=entry.at,
                action=entry.action,
                known=entry.action in KNOWN_ACTIONS,
                by=by,
                by_name=by_name,
                document_id=document_id,
                document_title=titles.get(document_id) if document_id else None,
                index=entry.index,
            )
        )
    return rows


@router.get("/record")
def record(request: Request, context: Context, session: DbSession, holder: SignedIn) -> Response:
    rows = record_rows(session, context, holder, pick_language(request))
    return PAGES.render(request, "record.html", {"entries": rows})
