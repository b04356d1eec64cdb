"""Who is asking the locker: a signed-in citizen (bearer token for the API, the session
cookie for pages), or a visitor holding a share link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine

from accounts.citizens import account_for_token
from accounts.dependencies import PageCitizen
from locker.holder import SESSION_ENDED, Holder, holder_of
from locker.sharing import Visitor
from sanad.dependencies import DbSession, Runtime, get_context
from sanad.errors import Unauthorized
from web.client import client_ip

if TYPE_CHECKING:
    from issuer.service import IssuingKit


class LockerContext(Runtime, Protocol):
    kit: IssuingKit
    read_engine: Engine
    """Where the hottest reads run on the driver directly (``sanad.db.PreparedRead``)."""


Context = Annotated[LockerContext, Depends(get_context)]


class LockerToken(SecurityBase):
    """The bearer token of a locker session, or :class:`Unauthorized`. A security scheme
    itself (named in the OpenAPI document), so a signed-in request solves one dependency
    for its token rather than the scheme and a function reading it."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A locker session token from `POST /api/v1/locker/session`.")
        self.scheme_name = "LockerToken"

    async def __call__(self, request: Request) -> str:
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/locker/session")
        return token


ApiToken = Annotated[str, Depends(LockerToken())]


def get_api_holder(session: DbSession, token: ApiToken) -> Holder:
    account = account_for_token(session, token, datetime.now(UTC))
    if account is None:
        raise Unauthorized(SESSION_ENDED)
    return holder_of(account)


ApiHolder = Annotated[Holder, Depends(get_api_holder)]


def get_page_holder(request: Request, session: DbSession, account: PageCitizen) -> Holder | None:
    """The citizen signed in through the session cookie, if any (pages only); remembered
    for the navigation bar, error pages' included."""
    holder = None if account is None else holder_of(account)
    request.state.holder = holder
    return holder


PageHolder = Annotated[Holder | None, Depends(get_page_holder)]


async def get_visitor(request: Request) -> Visitor:
    return Visitor(ip=client_ip(request), user_agent=request.headers.get("user-agent", "")[:300])


CurrentVisitor = Annotated[Visitor, Depends(get_visitor)]
