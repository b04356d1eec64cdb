"""Request-scoped dependencies shared by every domain's endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from sanad.departments import department_for_api_key
from sanad.errors import Unauthorized
from sanad.models import Department
from sanad.notify import Channel
from sanad.settings import Settings
from sanad.storage import ObjectStore


class Runtime(Protocol):
    """What every deployment gives every domain. The composition root builds one context
    at start-up; each domain names what more it needs in a protocol of its own that
    extends this one, so no domain imports the root or another domain's kit."""

    settings: Settings
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    """Sessions whose statements are each their own transaction, for handlers that only read."""
    store: ObjectStore
    channel: Channel
    """Where one-time passwords go (SMS)."""


async def get_context(request: Request) -> Any:
    """The long-lived context; domains annotate it with their own protocol."""
    # async: a plain function dependency would be run on a pool thread, a hop that costs
    # more than the attribute read.
    return request.app.state.context


Context = Annotated[Runtime, Depends(get_context)]


def get_session(context: Context) -> Iterator[Session]:
    """A session per request, and the request's one owner of the transaction.

    It commits once the handler has succeeded and rolls back on any exception. Its
    scope is the handler (``scope="function"``), so the commit happens before the answer
    is sent: a failed commit becomes an error answer, never a success for work that was
    lost. Repositories only flush; a service commits by itself only where a crash-safe
    order needs a step to be durable first (an object before its row, a failed attempt
    counted before the refusal is raised).
    """
    session = context.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A department API key (`sanad apikey create`).")


def get_department(
    session: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Department:
    if credentials is None:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    department = department_for_api_key(session, credentials.credentials)
    if department is None:
        raise Unauthorized("invalid or revoked API key")
    return department


CurrentDepartment = Annotated[Department, Depends(get_department)]
