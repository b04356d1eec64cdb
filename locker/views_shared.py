"""What someone given a share link sees, without an account: the document's facts, its live
status, and its download. Every view and download lands in the owner's access log."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from locker import documents, sharing
from locker.dependencies import Context, CurrentVisitor
from locker.endpoints import content_response, to_locker_document
from locker.views_common import PAGES
from sanad.dependencies import DbSession
from sanad.errors import Gone, NotFound

router = APIRouter(include_in_schema=False, route_class=PAGES.route_class)

_GONE_TEXTS = {"revoked": "shared.gone_revoked", "used": "shared.gone_used", "expired": "shared.gone_expired"}
_NOT_INDEXED = {"X-Robots-Tag": "noindex, nofollow"}


def _link_error(request: Request, error: NotFound | Gone) -> Response:
    t = PAGES.translator(request)
    if isinstance(error, Gone):
        message = t(_GONE_TEXTS.get(getattr(error, "reason", ""), "shared.gone"))
        response = PAGES.error_page(request, message, 410, heading=t("shared.gone_heading"))
    else:
        response = PAGES.error_page(request, t("shared.not_found"), 404, heading=t("shared.not_found_heading"))
    response.headers.update(_NOT_INDEXED)
    return response


@router.get("/s/{token}")
def shared_document(
    token: str, request: Request, visitor: CurrentVisitor, context: Context, session: DbSession
) -> Response:
    try:
        share, held = sharing.view_share(session, token, visitor, datetime.now(UTC))
    except (NotFound, Gone) as e:
        return _link_error(request, e)
    response = PAGES.render(
        request,
        "shared.html",
        {"doc": to_locker_document(context, held), "share": share, "token": token},
    )
    response.headers.update(_NOT_INDEXED)
    return response


@router.get("/s/{token}/download")
def shared_download(
    token: str, request: Request, visitor: CurrentVisitor, context: Context, session: DbSession
) -> Response:
    """The signed PDF; a single-use link is spent by this download."""
    try:
        _, held = sharing.download_share(session, token, visitor, datetime.now(UTC))
    except (NotFound, Gone) as e:
        return _link_error(request, e)
    return content_response(documents.content_of(context.store, held.document))
