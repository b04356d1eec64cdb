"""The citizen's document pages: the list, one document with its share links and access
log, its download, and making or withdrawing share links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from issuer import lifecycle
from issuer.service import HOLDER_STATUSES, HolderFilter
from locker import documents, sharing
from locker.dependencies import Context, LockerContext
from locker.endpoints import content_response, to_locker_document
from locker.holder import Holder
from locker.schemas import LockerDocument, ShareRead
from locker.sharing import NewShare
from locker.views_access import access_rows
from locker.views_common import CITIZEN, DOCUMENTS, PAGES, SignedIn
from sanad.dependencies import DbSession
from sanad.errors import Conflict
from web.i18n import localized, pick_language

router = APIRouter(prefix="/locker", include_in_schema=False, route_class=PAGES.route_class)

PAGE_SIZE = 20
"""Documents per page: a phone screen or two."""
SHARE_DAYS = (1, 3, 7, 14, 30)
"""What the expiry select offers; the service allows anything from 1 to 30 days."""
DEFAULT_SHARE_DAYS = 7
FACET_SCAN = 200
"""The filter menus offer the types and departments among this many newest documents."""
DONE_NOTICES = {"revoked": "share.revoked_notice"}


def _now() -> datetime:
    return datetime.now(UTC)


def _page_of(document_id: str) -> str:
    return f"/locker/documents/{quote(document_id, safe='')}"


def _this_document(request: Request) -> str:
    """The page of the document a form is about."""
    return _page_of(request.path_params["document_id"])


ShareForm = Annotated[Holder, Depends(CITIZEN.form(back=_this_document))]
"""A form on a document's page, by its signed-in owner."""
RevokeForm = Annotated[Holder, Depends(CITIZEN.form(back=DOCUMENTS))]
"""A share's Revoke button (on its document's page, which the share's id does not name)."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _filter_choices(
    session: Session, context: LockerContext, holder: Holder, chosen: HolderFilter, language: str
) -> tuple[list[Choice], list[Choice]]:
    """The document types and departments the holder has, for the filter menus (plus the
    ones chosen, so a menu always shows what the list is filtered by)."""
    held, _ = documents.list_documents(session, holder.mobile, HolderFilter(), limit=FACET_SCAN)

    def title(document_type: str) -> str:
        spec = context.kit.templates.get(document_type)
        return localized(spec.title, language) if spec else document_type

    types = {chosen.type: title(chosen.type)} if chosen.type else {}
    departments = {chosen.department: chosen.department} if chosen.department else {}
    for item in held:
        types[item.document.type] = title(item.document.type)
        departments[item.department.code] = localized(item.department_name, language)
    return (
        [Choice(v, label) for v, label in sorted(types.items(), key=lambda kv: kv[1])],
        [Choice(v, label) for v, label in sorted(departments.items(), key=lambda kv: kv[1])],
    )


@router.get("/documents")
def document_list(
    request: Request,
    context: Context,
    session: DbSession,
    holder: SignedIn,
    type: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    language = pick_language(request)
    chosen = HolderFilter(type=type or None, department=department or None, status=status or None)
    page, next_cursor = documents.list_documents(session, holder.mobile, chosen, cursor=cursor or None, limit=PAGE_SIZE)
    types, departments = _filter_choices(session, context, holder, chosen, language)
    filters = {
        k: v for k, v in (("type", chosen.type), ("department", chosen.department), ("status", chosen.status)) if v
    }
    return PAGES.render(
        request,
        "documents.html",
        {
            "items": [to_locker_document(context, held) for held in page],
            "filters": filters,
            "types": types,
            "departments": departments,
            "statuses": HOLDER_STATUSES,
            "next_href": f"/locker/documents?{urlencode({**filters, 'cursor': next_cursor})}" if next_cursor else None,
            "first_href": f"/locker/documents?{urlencode(filters)}" if cursor else None,
        },
    )


def _document_page(
    request: Request,
    context: LockerContext,
    session: Session,
    holder: Holder,
    document_id: str,
    *,
    new_share: NewShare | None = None,
) -> Response:
    now = _now()
    language = pick_language(request)
    held = documents.get_document(session, holder.mobile, document_id)
    document: LockerDocument = to_locker_document(context, held)
    shares = [ShareRead.of(share, now) for share in sharing.shares_of(session, holder, document_id)]
    created = None
    if new_share is not None:
        created = {
            "url": f"{context.settings.public_base_url}/s/{new_share.token}",
            "share": ShareRead.of(new_share.share, now),
        }
    notice = DONE_NOTICES.get(request.query_params.get("done", ""))
    return PAGES.render(
        request,
        "document.html",
        {
            "doc": document,
            "shares": shares,
            "created": created,
            "notice": notice,
            "events": access_rows(session, context, holder, language, document_id=document_id, limit=50),
            "share_days": SHARE_DAYS,
            "default_days": DEFAULT_SHARE_DAYS,
            "versions": lifecycle.versions(session, held.document),
        },
    )


@router.get("/documents/{document_id}")
def document_detail(
    document_id: str, request: Request, context: Context, session: DbSession, holder: SignedIn
) -> Response:
    return _document_page(request, context, session, holder, document_id)


@router.get("/documents/{document_id}/download")
def document_download(document_id: str, context: Context, session: DbSession, holder: SignedIn) -> Response:
    held = documents.get_document(session, holder.mobile, document_id)
    return content_response(documents.content_of(context.store, held.document))


@router.post("/documents/{document_id}/shares")
def create_share(
    document_id: str,
    request: Request,
    context: Context,
    session: DbSession,
    holder: ShareForm,
    days: Annotated[int, Form(ge=1, le=30)] = DEFAULT_SHARE_DAYS,
    single_use: Annotated[bool, Form()] = False,
    purpose: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Make a link and show it on the document's page: the token is never stored, so this
    answer is the only time it can be shown (a redirect would lose it)."""
    now = _now()
    new_share = sharing.create_share(
        session,
        holder,
        document_id,
        expires_at=now + timedelta(days=days),
        single_use=single_use,
        purpose=purpose.strip() or None,
        now=now,
        max_live=context.settings.locker_max_live_shares,
    )
    return _document_page(request, context, session, holder, document_id, new_share=new_share)


@router.get("/documents/{document_id}/shares")
def shares_page(document_id: str, request: Request) -> Response:
    """Where the page after making a link lives; a reload or a language switch lands here."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(_page_of(document_id) + query, status_code=303)


@router.post("/shares/{share_id}/revoke")
def revoke_share(share_id: str, request: Request, session: DbSession, holder: RevokeForm) -> Response:
    try:
        share = sharing.revoke_share(session, holder, share_id, _now())
    except Conflict:
        return PAGES.error_page(request, PAGES.translator(request)("share.already_revoked"), 409)
    return RedirectResponse(f"/locker/documents/{share.document_id}?done=revoked#shares", status_code=303)
