"""Who is calling the intake API: a staff member, or a citizen signed in to the locker
(both through :mod:`accounts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import null, select, union_all

from accounts import citizens, staff
from accounts.staff import StaffMember, member_for_token
from sanad.db import PreparedRead
from sanad.dependencies import DbSession, Runtime, get_context
from sanad.errors import Unauthorized

if TYPE_CHECKING:
    from intake.applications import IntakeKit
    from issuer.service import IssuingKit


class IntakeContext(Runtime, Protocol):
    kit: IssuingKit
    intake: IntakeKit


Context = Annotated[IntakeContext, Depends(get_context)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="StaffOrCitizenToken",
    description="A staff session token (`POST /api/v1/staff/session`) or a citizen's locker token.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CREDENTIALS_SECURITY: list[dict[str, list[str]]] = [{_bearer.scheme_name: []}]
"""What an operation reading :func:`credentials_of` itself declares (``openapi_extra``),
as one taking ``Credentials`` is documented."""


async def credentials_of(request: Request) -> HTTPAuthorizationCredentials | None:
    """``Credentials`` read by a handler itself rather than solved as a dependency."""
    return await _bearer(request)


@dataclass(frozen=True)
class Caller:
    """Exactly one of ``staff`` and ``mobile`` is set."""

    staff: StaffMember | None
    mobile: str | None
    """The signed-in citizen's mobile number."""


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token, or :class:`Unauthorized` when the request sent none."""
    if credentials is None:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    return credentials.credentials


def get_staff(session: DbSession, credentials: Credentials) -> StaffMember:
    member = member_for_token(session, token_of(credentials), datetime.now(UTC))
    if member is None:
        raise Unauthorized("the staff session has expired or was ended; sign in again")
    return member


def get_staff_token(credentials: Credentials) -> str:
    return token_of(credentials)


# Staff and citizen sessions in one round trip: the member's row if a staff session
# matches, and always one row with the signed-in citizen's number (null when none). Run
# on the driver (every intake request asks it; SQLAlchemy's ORM machinery cost more CPU
# than the lookup).
_CALLER = PreparedRead(
    union_all(
        staff.signed_in_query().add_columns(null().label("mobile")),
        select(*(null() for _ in staff.SIGNED_IN_COLUMNS), citizens.SIGNED_IN_MOBILE),
    )
)


def get_caller(session: DbSession, credentials: Credentials) -> Caller:
    token, now = token_of(credentials), datetime.now(UTC)
    rows = _CALLER.rows_in(session, citizens.signed_in_parameters(token, now))
    for row in rows:
        if row.id is not None:
            return Caller(staff=staff.member_of(row), mobile=None)
    mobile = next((row.mobile for row in rows if row.mobile is not None), None)
    if mobile is not None:
        return Caller(staff=None, mobile=mobile)
    raise Unauthorized("the session has expired or was ended; sign in again")


def caller_between_transactions(context: Runtime, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """:func:`get_caller` through a read session, which holds no transaction and gives
    its connection back at once: for a handler that reads a large body next and should not
    keep a connection meanwhile. Blocks: call it from a pool thread."""
    with context.read_sessions() as session:
        return get_caller(session, credentials)


CurrentStaff = Annotated[StaffMember, Depends(get_staff)]
StaffToken = Annotated[str, Depends(get_staff_token)]
CurrentCaller = Annotated[Caller, Depends(get_caller)]
