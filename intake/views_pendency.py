"""Pendency for head office and department admins: what is open where, what is late, how
fast cases close; the same figures as the API, as a page and as a CSV download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from accounts.models import StaffRole
from accounts.staff import StaffMember
from intake import pendency
from intake.dependencies import Context
from intake.endpoints import pendency_rows
from intake.views_common import PAGES, SignedInMember
from intake.views_parts import department_names, office_names, service_names
from sanad.clock import today_in_india
from sanad.departments import list_departments
from sanad.dependencies import DbSession
from sanad.errors import Forbidden, InvalidInput
from web.i18n import pick_language

router = APIRouter(prefix="/desk", include_in_schema=False, route_class=PAGES.route_class)

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Filters:
    department: str | None
    office: str | None
    service: str | None
    since: str | None

    def query(self) -> str:
        chosen = {k: v for k, v in vars(self).items() if v}
        return f"?{urlencode(chosen)}" if chosen else ""


Text = Annotated[str, Query(max_length=64)]


def _filters(member: StaffMember, department: str, office: str, service: str, since: str) -> Filters:
    if member.role not in (StaffRole.HEAD_OFFICE, StaffRole.DEPARTMENT_ADMIN):
        raise Forbidden("pendency is for head office and department admins")
    if since and not _MONTH.fullmatch(since):
        raise InvalidInput([])
    return Filters(
        # A department admin sees their own department whatever the query says.
        department=(department.upper() or None) if member.is_head_office else None,
        office=office or None,
        service=service or None,
        since=since or None,
    )


@router.get("/pendency")
def pendency_page(
    request: Request,
    context: Context,
    session: DbSession,
    member: SignedInMember,
    department: Text = "",
    office: Text = "",
    service: Text = "",
    since: Text = "",
) -> Response:
    chosen = _filters(member, department, office, service, since)
    rows = pendency_rows(member, session, chosen.department, chosen.office, chosen.service, chosen.since)
    language = pick_language(request)
    kit = context.intake
    departments = department_names(session, language)
    offices, services = office_names(kit, language), service_names(kit, language)
    # The office and service menus offer what the chosen (or the admin's own) department has.
    scope = chosen.department if member.is_head_office else _department_code(session, member)
    today = today_in_india()
    return PAGES.render(
        request,
        "pendency.html",
        {
            "rows": rows,
            "totals": pendency.totals(rows),
            "statuses": pendency.STATUSES,
            "filters": chosen,
            "since_month": chosen.since or f"{today.year}-01",
            "departments": departments if member.is_head_office else {},
            "offices": {
                code: name for code, name in offices.items() if scope is None or kit.offices[code].department == scope
            },
            "services": {
                code: name
                for code, name in services.items()
                if scope is None or kit.catalogue[code].department == scope
            },
            "department_names": departments,
            "office_names": offices,
            "service_names": services,
            "csv_href": f"/desk/pendency.csv{chosen.query()}",
        },
    )


def _department_code(session: Session, member: StaffMember) -> str | None:
    return next((d.code for d in list_departments(session) if d.id == member.department_id), None)


@router.get("/pendency.csv")
def pendency_csv(
    session: DbSession,
    member: SignedInMember,
    department: Text = "",
    office: Text = "",
    service: Text = "",
    since: Text = "",
) -> Response:
    """The same figures as a spreadsheet, with the desk's session (the API wants a bearer token)."""
    chosen = _filters(member, department, office, service, since)
    rows = pendency_rows(member, session, chosen.department, chosen.office, chosen.service, chosen.since)
    return PlainTextResponse(
        pendency.as_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pendency.csv"', "Cache-Control": "no-store"},
    )
