"""The access-log page: who opened the citizen's documents, when, how and from where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from locker import documents, sharing
from locker.dependencies import Context, LockerContext
from locker.holder import Holder
from locker.views_common import PAGES, SignedIn, short_agent
from sanad.dependencies import DbSession
from sanad.errors import NotFound
from web.i18n import localized, pick_language

router = APIRouter(prefix="/locker", include_in_schema=False, route_class=PAGES.route_class)

LOG_LENGTH = 200
"""Newest accesses shown on the page."""


@dataclass(frozen=True)
class AccessRow:
    """One access as the owner reads it."""

    at: datetime
    document_id: str
    document_title: str | None
    """In the page's language; None when the document is no longer in this locker."""
    via: str
    """``share`` or ``requester``."""
    purpose: str | None
    requester: str | None
    action: str
    """``view`` or ``download``."""
    ip: str
    browser: str
    """The user agent, shortened to browser and system."""
    user_agent: str


def access_rows(
    session: Session,
    context: LockerContext,
    holder: Holder,
    language: str,
    *,
    document_id: str | None = None,
    limit: int = LOG_LENGTH,
) -> list[AccessRow]:
    """The holder's access log, or one document's (then rows carry no title)."""
    titles: dict[str, str | None] = {}

    def title_of(doc_id: str) -> str | None:
        if doc_id not in titles:
            try:
                held = documents.get_document(session, holder.mobile, doc_id)
            except NotFound:
                titles[doc_id] = None
            else:
                spec = context.kit.templates.get(held.document.type)
                titles[doc_id] = localized(spec.title, language) if spec else held.document.type
        return titles[doc_id]

    return [
        AccessRow(
            at=event.at,
            document_id=event.document_id,
            document_title=title_of(event.document_id) if document_id is None else None,
            via=event.via,
            purpose=purpose,
            requester=event.requester,
            action=event.action,
            ip=event.ip,
            browser=short_agent(event.user_agent),
            user_agent=event.user_agent,
        )
        for event, purpose in sharing.access_log(session, holder, document_id=document_id, limit=limit)
    ]


@router.get("/access-log")
def access_log(request: Request, context: Context, session: DbSession, holder: SignedIn) -> Response:
    return PAGES.render(
        request, "access_log.html", {"events": access_rows(session, context, holder, pick_language(request))}
    )
