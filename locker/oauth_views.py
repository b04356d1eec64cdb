"""The citizen's side of the requester API in pages: the consent page of the OAuth
authorization endpoint, and the list of connected requesters with a Revoke button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from locker import requesters
from locker.dependencies import Context, LockerContext, PageHolder
from locker.holder import Holder
from locker.oauth_dependencies import QueryCall
from locker.oauth_endpoints import authorization_server
from locker.oauth_server import HttpCall, SanadAuthorizationServer
from locker.requesters import TOKEN_LIFETIME, types_in
from locker.views_common import CITIZEN, PAGES, SignedIn
from sanad.dependencies import DbSession
from sanad.errors import Conflict, NotFound
from sanad.i18n import LocalizedText
from web.csrf import CsrfValid
from web.guards import SignInRoute
from web.security import PAGE_CSP

# Errors here answer as the API does (the authorization endpoint's own are OAuth's); only
# a missing sign-in becomes the redirect to it.
router = APIRouter(include_in_schema=False, route_class=SignInRoute)

CONNECTED = "/locker/connected"
OnConnectedPage = Annotated[Holder, Depends(CITIZEN.required(back=CONNECTED))]
"""The signed-in citizen posting a form of the connected page; nobody signed in: to sign
in, and back to that page."""


def _titled(context: LockerContext, types: list[str]) -> list[tuple[str, LocalizedText | None]]:
    """Each type with its certificate title (``None`` if the template was retired)."""
    titled: list[tuple[str, LocalizedText | None]] = []
    for document_type in types:
        spec = context.kit.templates.get(document_type)
        titled.append((document_type, spec.title if spec else None))
    return titled


# --- the authorization endpoint -----------------------------------------------------------------


def _unusable_request(request: Request, server: SanadAuthorizationServer, call: HttpCall, error: Any) -> Response:
    if error.redirect_uri:
        # The client and its redirect URI are genuine: the requester hears why (RFC 6749 §4.1.2.1).
        return server.redirect_error(call, error)
    # Never redirect to a URI nobody registered: explain here instead.
    values = {"invalid": True, "oauth_error": error.error, "oauth_detail": error.get_error_description()}
    return PAGES.render(request, "consent.html", values, status_code=400)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _consent_page(
    request: Request, context: LockerContext, grant: Any, *, error: str | None = None, status: int = 200
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
    response = PAGES.render(request, "consent.html", values, status_code=status)
    # The answer to the form is a redirect to the requester, and Chromium applies form-action
    # to every redirect a form submission follows: the requester's origin must be allowed.
    # (Takes effect once the app's security-header middleware keeps a page's own policy.)
    policy = PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {_origin(grant.redirect_uri)}")
    response.headers["Content-Security-Policy"] = policy
    return response


@router.get("/oauth/authorize")
def authorize(request: Request, call: QueryCall, context: Context, session: DbSession, holder: PageHolder) -> Response:
    """OAuth 2.0 authorization endpoint: validate the requester's request, have the citizen
    sign in, and ask them to allow or refuse it."""
    server = authorization_server(session, context, datetime.now(UTC))
    try:
        grant = server.consent_grant(call, holder)
    except OAuth2Error as error:
        return _unusable_request(request, server, call, error)
    if holder is None:  # only now: a request nobody could grant is explained without a sign-in
        return CITIZEN.redirect(request)
    return _consent_page(request, context, grant)


@router.post("/oauth/authorize")
def decide(
    request: Request,
    call: QueryCall,
    context: Context,
    session: DbSession,
    holder: SignedIn,
    genuine: CsrfValid,
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The citizen's answer: a code for the requester, or access_denied."""
    server = authorization_server(session, context, datetime.now(UTC))
    try:
        grant = server.consent_grant(call, holder)
    except OAuth2Error as error:
        return _unusable_request(request, server, call, error)
    if not genuine:
        message = PAGES.translator(request)("error.form_expired")
        return _consent_page(request, context, grant, error=message, status=400)
    return server.authorization_response(grant, holder if decision == "approve" else None)


# --- connected requesters --------------------------------------------------------------------------


def _connected_page(
    request: Request, context: LockerContext, session: Session, holder: Holder, *, error: str | None, status: int
) -> Response:
    connected = requesters.connected_requesters(session, holder, datetime.now(UTC))
    items = [(c, _titled(context, c.document_types)) for c in connected]
    notice = "connected.revoked" if request.query_params.get("revoked") and not error else None
    values = {"items": items, "notice": notice, "error": error}
    return PAGES.render(request, "connected.html", values, status_code=status)


@router.get(CONNECTED)
def connected(request: Request, context: Context, session: DbSession, holder: SignedIn) -> Response:
    return _connected_page(request, context, session, holder, error=None, status=200)


@router.post(CONNECTED + "/{grant_id}/revoke")
def revoke(
    request: Request,
    grant_id: str,
    context: Context,
    session: DbSession,
    holder: OnConnectedPage,
    genuine: CsrfValid,
) -> Response:
    t = PAGES.translator(request)
    if not genuine:
        return _connected_page(request, context, session, holder, error=t("error.form_expired"), status=400)
    try:
        requesters.withdraw_grant(session, holder, grant_id, datetime.now(UTC))
    except NotFound:
        return _connected_page(request, context, session, holder, error=t("error.not_found"), status=404)
    except Conflict:
        pass  # already revoked (a second click): the outcome the citizen wanted
    return RedirectResponse(f"{CONNECTED}?revoked=1", status_code=303)
