"""The desk's page of DigiLocker pushes that need a person: failed pushes and those being
retried, with the certificate, the action, the attempts and the last error, and a Retry
button on each failed one. A department admin sees their department's; head office sees
every department's. Another department's push is never listed, and retrying it answers
404 exactly like a missing one. Each retry is noted in the audit log.

The page is one of the desk's: it extends the desk's layout and reads the desk's texts
(navigation, errors) with its own over them (``messages.yaml`` here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import ChoiceLoader, FileSystemLoader

from accounts.models import StaffRole
from accounts.staff import StaffMember
from digilocker import pushing
from digilocker.models import DigilockerPush, PushStatus
from intake.i18n import MESSAGES as DESK_MESSAGES
from intake.views_common import DESK, SignedInMember
from intake.views_common import PAGES as DESK_PAGES
from sanad.departments import list_departments
from sanad.dependencies import DbSession
from sanad.errors import Forbidden
from web.i18n import Messages
from web.pages import Pages

#: Pushes listed on the page, newest first.
LISTED = 200
PAGE = "/desk/digilocker"
#: How much of a push's last error the page shows (errors name no secret; see partner_client.py).
ERROR_CHARS = 300


class _PageMessages(Messages):
    """This page's texts over the desk's, so the shared layout finds its own."""

    @cached_property
    def table(self) -> dict[str, dict[str, str]]:
        return {**DESK_MESSAGES.table, **super().table}


def _pages() -> Pages:
    here = FilePath(__file__).parent / "pages"
    pages = Pages(
        here, _PageMessages(here.parent / "messages.yaml"), signed_in=DESK_PAGES.signed_in, home=DESK_PAGES.home
    )
    desk_loader = DESK_PAGES.templates.env.loader
    assert desk_loader is not None
    pages.templates.env.loader = ChoiceLoader([FileSystemLoader(here), desk_loader])
    return pages


PAGES = _pages()
router = APIRouter(prefix=PAGE, include_in_schema=False, route_class=PAGES.route_class)

RetryForm = Annotated[StaffMember, Depends(DESK.form(back=PAGE))]
"""The Retry button, posted by the signed-in staff member."""


@dataclass(frozen=True)
class PushLine:
    """One push as the page shows it."""

    id: int
    document_id: str
    department: str
    action: str
    event: str | None
    failed: bool
    attempts: int
    next_attempt: datetime
    created: datetime
    last_error: str | None


def _line(push: DigilockerPush, codes: dict[int, str]) -> PushLine:
    event = (push.details or {}).get("event")
    return PushLine(
        id=push.id,
        document_id=push.document_id,
        department=codes.get(push.department_id, ""),
        action=push.action,
        event=event if event in pushing.EVENTS else None,
        failed=push.status == PushStatus.FAILED,
        attempts=push.attempts,
        next_attempt=push.next_attempt_at,
        created=push.created_at,
        last_error=push.last_error[:ERROR_CHARS] if push.last_error else None,
    )


def _scope(member: StaffMember) -> int | None:
    """The department whose pushes ``member`` may see and retry; None: every department."""
    if member.role == StaffRole.HEAD_OFFICE:
        return None
    if member.role == StaffRole.DEPARTMENT_ADMIN and member.department_id is not None:
        return member.department_id
    raise Forbidden("DigiLocker pushes are for department admins and head office")


@router.get("")
def pushes_page(
    request: Request,
    session: DbSession,
    member: SignedInMember,
    retried: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    department_id = _scope(member)
    rows = pushing.troubled_pushes(session, department_id, LISTED)
    # Head office reads which department each push is of; departments are a handful.
    codes = (
        {department.id: department.code for department in list_departments(session)} if department_id is None else {}
    )
    values = {
        "items": [_line(row, codes) for row in rows],
        "all_departments": department_id is None,
        "retried": retried,
    }
    return PAGES.render(request, "desk_pushes.html", values)


@router.post("/pushes/{push_id}/retry")
def retry(push_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DbSession, member: RetryForm) -> Response:
    push = pushing.retry_of_department(session, push_id, _scope(member), f"staff:{member.username}", datetime.now(UTC))
    return RedirectResponse(f"{PAGE}?retried={push.id}", status_code=303)
