"""The accounts' command: ``sanad staff add`` creates a desk account (operators, officers,
approvers, department admins, head office)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from sanad.cli import database, load_settings

app = typer.Typer(
    name="staff", help="Staff accounts: operators, officers, approvers, admins, head office.", no_args_is_help=True
)
"""``sanad staff``; the root command adds it."""


@app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    full_name: Annotated[str, typer.Option("--name", help="Full name, as the timeline shows it")],
    role: Annotated[str, typer.Option(help="operator, officer, approver, department_admin or head_office")],
    department: Annotated[str | None, typer.Option(help="Department code (all roles but head_office)")] = None,
    office: Annotated[str | None, typer.Option(help="Office code; omit for every office of the department")] = None,
) -> None:
    """Add a staff member; the password is asked for twice and stored as an argon2id hash."""
    from accounts.models import StaffRole
    from accounts.staff import add_staff
    from sanad.departments import get_department

    settings = load_settings()
    try:
        staff_role = StaffRole(role)
    except ValueError as e:
        raise typer.BadParameter(f"role must be one of {', '.join(r.value for r in StaffRole)}") from e
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with database(settings) as session:
        department_id = get_department(session, department.upper()).id if department else None
        add_staff(
            session,
            username=username,
            password=password,
            full_name=full_name,
            role=staff_role,
            department_id=department_id,
            office_code=office,
            now=datetime.now(UTC),
        )
    typer.echo(f"added {staff_role.value} {username}")
