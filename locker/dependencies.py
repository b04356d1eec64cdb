"""Who is asking the locker: a signed-in citizen (bearer token for the API, the session
cookie for pages), or a visitor holding a share link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


Context = Annotated[LockerContext, Depends(get_context)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="LockerToken",
    description="A locker session token from `POST /api/v1/locker/session`.",
)


async def get_api_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    if credentials is None:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/locker/session")
    return credentials.credentials


ApiToken = Annotated[str, Depends(get_api_token)]


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
