"""Dependencies of the requester API: the request as Authlib reads it, and the requester's
access from its bearer token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from locker.oauth_resource import authenticate_requester
from locker.oauth_server import HttpCall
from locker.requesters import RequesterAccess
from sanad.dependencies import DbSession
from sanad.settings import Settings


async def _read_call(request: Request, *, params_in_form: bool) -> HttpCall:
    # Awaited here, in the event loop, so the synchronous endpoint and Authlib get a plain object.
    form = await request.form() if request.method == "POST" else None
    settings: Settings = request.app.state.context.settings
    query = request.url.query
    return HttpCall(
        method=request.method,
        uri=f"{settings.public_base_url}{request.url.path}" + (f"?{query}" if query else ""),
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=[(k, v) for k, v in form.multi_items() if isinstance(v, str)] if form else [],
        params_in_form=params_in_form,
    )


async def query_call(request: Request) -> HttpCall:
    return await _read_call(request, params_in_form=False)


async def form_call(request: Request) -> HttpCall:
    return await _read_call(request, params_in_form=True)


QueryCall = Annotated[HttpCall, Depends(query_call)]
"""OAuth parameters in the query string (the authorization endpoint, the resource API)."""
FormCall = Annotated[HttpCall, Depends(form_call)]
"""OAuth parameters in the form body (the token and revocation endpoints)."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="RequesterToken",
    description="An access token from `POST /oauth/token`.",
)


def get_requester_access(
    call: QueryCall,
    session: DbSession,
    # Declared for the OpenAPI document; Authlib reads the header itself.
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> RequesterAccess:
    return authenticate_requester(session, call, datetime.now(UTC))


CurrentRequester = Annotated[RequesterAccess, Depends(get_requester_access)]
