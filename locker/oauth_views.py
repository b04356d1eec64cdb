"""The citizen's side of the requester API in pages: the consent page of the OAuth
authorization endpoint, and the list of connected requesters with a Revoke button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from locker import requesters
from locker.dependencies import Context, LockerContext, page_holder
from locker.holder import Holder
from locker.i18n import pick_language, translator
from locker.oauth_dependencies import QueryCall
from locker.oauth_endpoints import authorization_server
from locker.oauth_server import HttpCall, SanadAuthorizationServer
from locker.requesters import TOKEN_LIFETIME, types_in
from locker.web import csrf_ok, render, sign_in_redirect
from sanad.dependencies import DbSession
from sanad.errors import Conflict, NotFound
from sanad.i18n import LocalizedText
from web.security import PAGE_CSP

router = APIRouter(include_in_schema=False)

CONNECTED = "/locker/connected"


def _titled(context: LockerContext, types: list[str]) -> list[tuple[str, LocalizedText | None]]:
    """Each type with its certificate title (``None`` if the template was retired)."""
    titled: list[tuple[str, LocalizedText | None]] = []
    for document_type in types:
        spec = context.kit.templates.get(document_type)
        titled.append((document_type, spec.title if spec else None))
    return titled


# --- the authorization endpoint -----------------------------------------------------------------


def _unusable_request(
    request: Request, server: SanadAuthorizationServer, call: HttpCall, error: Any, holder: Holder | None
) -> Response:
    if error.redirect_uri:
        # The client and its redirect URI are genuine: the requester hears why (RFC 6749 §4.1.2.1).
        return server.redirect_error(call, error)
    # Never redirect to a URI nobody registered: explain here instead.
    values = {"invalid": True, "oauth_error": error.error, "oauth_detail": error.get_error_description()}
    return render(request, "consent.html", values, holder=holder, status_code=400)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _consent_page(
    request: Request, context: LockerContext, grant: Any, holder: Holder, *, error: str | None = None, status: int = 200
) -> Response:
    values = {
        "requester": grant.client.name,
        "items": _titled(context, types_in(grant.request.scope)),
        "return_host": urlsplit(grant.redirect_uri).hostname,
        "minutes": int(TOKEN_LIFETIME.total_seconds() // 60),
        # The decision is posted back to this very URL, so the request is validated again.
        "action": f"{request.url.path}?{request.url.query}",
        "error": error,
    }
    response = render(request, "consent.html", values, holder=holder, status_code=status)
    # The answer to the form is a redirect to the requester, and Chromium applies form-action
    # to every redirect a form submission follows: the requester's origin must be allowed.
    # (Takes effect once the app's security-header middleware keeps a page's own policy.)
    policy = PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {_origin(grant.redirect_uri)}")
    response.headers["Content-Security-Policy"] = policy
    return response


@router.get("/oauth/authorize")
def authorize(request: Request, call: QueryCall, context: Context, session: DbSession) -> Response:
    """OAuth 2.0 authorization endpoint: validate the requester's request, have the citizen
    sign in, and ask them to allow or refuse it."""
    holder = page_holder(request, session)
    server = authorization_server(session, context, datetime.now(UTC))
    try:
        grant = server.consent_grant(call, holder)
    except OAuth2Error as error:
        return _unusable_request(request, server, call, error, holder)
    if holder is None:
        return sign_in_redirect(request)
    return _consent_page(request, context, grant, holder)


@router.post("/oauth/authorize")
def decide(
    request: Request,
    call: QueryCall,
    context: Context,
    session: DbSession,
    decision: Annotated[str, Form(max_length=16)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The citizen's answer: a code for the requester, or access_denied."""
    holder = page_holder(request, session)
    if holder is None:
        return sign_in_redirect(request)
    server = authorization_server(session, context, datetime.now(UTC))
    try:
        grant = server.consent_grant(call, holder)
    except OAuth2Error as error:
        return _unusable_request(request, server, call, error, holder)
    if not csrf_ok(request, csrf):
        message = translator(pick_language(request))("error.form_expired")
        return _consent_page(request, context, grant, holder, error=message, status=400)
    response = server.authorization_response(grant, holder if decision == "approve" else None)
    session.commit()
    return response


# --- connected requesters --------------------------------------------------------------------------


def _connected_page(
    request: Request, context: LockerContext, session: Session, holder: Holder, *, error: str | None, status: int
) -> Response:
    connected = requesters.connected_requesters(session, holder, datetime.now(UTC))
    items = [(c, _titled(context, c.document_types)) for c in connected]
    notice = "connected.revoked" if request.query_params.get("revoked") and not error else None
    values = {"items": items, "notice": notice, "error": error}
    return render(request, "connected.html", values, holder=holder, status_code=status)


@router.get(CONNECTED)
def connected(request: Request, context: Context, session: DbSession) -> Response:
    holder = page_holder(request, session)
    if holder is None:
        return sign_in_redirect(request)
    return _connected_page(request, context, session, holder, error=None, status=200)


@router.post(CONNECTED + "/{grant_id}/revoke")
def revoke(
    request: Request,
    grant_id: str,
    context: Context,
    session: DbSession,
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    holder = page_holder(request, session)
    if holder is None:
        return RedirectResponse(f"/locker/sign-in?next={CONNECTED}", status_code=303)
    t = translator(pick_language(request))
    if not csrf_ok(request, csrf):
        return _connected_page(request, context, session, holder, error=t("error.form_expired"), status=400)
    try:
        requesters.withdraw_grant(session, holder, grant_id, datetime.now(UTC))
    except NotFound:
        return _connected_page(request, context, session, holder, error=t("error.not_found"), status=404)
    except Conflict:
        pass  # already revoked (a second click): the outcome the citizen wanted
    return RedirectResponse(f"{CONNECTED}?revoked=1", status_code=303)
