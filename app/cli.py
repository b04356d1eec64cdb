"""The ``sanad`` command: set up, administer, issue and verify from a shell.

The composition root of the command line: each domain owns its commands (``<domain>/cli.py``)
and this module adds them, with the commands that wire every domain together (set-up,
serving, the demo, the object-store check) and the application context they all share.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import audit
from accounts import cli as accounts_cli
from app import backup_cli
from audit import cli as audit_cli
from digilocker import cli as digilocker_cli
from intake import cli as intake_cli
from issuer import batches_cli
from issuer import cli as issuer_cli
from locker import cli as locker_cli
from sanad.cli import CommandEnvironment, database, load_settings
from sanad.settings import Settings
from trust import cli as trust_cli
from verifier import cli as verifier_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.context import AppContext
    from intake.cli import WorkerContext

app = typer.Typer(help="Sanad: issue, store and verify signed government certificates.", no_args_is_help=True)
keys_app = typer.Typer(help="The signing PKI.", no_args_is_help=True)
keys_app.add_typer(trust_cli.keys_app)  # init, import, list, rotate, revoke, rotate-tsa
keys_app.add_typer(issuer_cli.keys_app)  # enroll-pkcs11, import-pkcs11 (keys in a token)
department_app = typer.Typer(help="Issuing departments.", no_args_is_help=True)
apikey_app = typer.Typer(help="Department API keys.", no_args_is_help=True)
app.add_typer(issuer_cli.app)  # issue, archive
app.add_typer(verifier_cli.app)  # verify, trust
app.add_typer(keys_app, name="keys")
app.add_typer(department_app, name="department")
app.add_typer(apikey_app, name="apikey")
app.add_typer(locker_cli.app)  # requester
app.add_typer(accounts_cli.app)  # staff
app.add_typer(intake_cli.app)  # intake
app.add_typer(batches_cli.app, name="batch")
app.add_typer(backup_cli.app, name="backup")
app.add_typer(digilocker_cli.app)  # digilocker
app.add_typer(audit_cli.app)  # audit

DEMO_DEPARTMENT = (
    issuer_cli.DEFAULT_DEPARTMENT,
    "Department of Revenue, Punjab",
    "ਮਾਲ ਵਿਭਾਗ, ਪੰਜਾਬ",
    "राजस्व विभाग, पंजाब",
)
# The other departments the shipped catalogue names: created by the demo so every
# catalogue service can take applications.
DEMO_OTHER_DEPARTMENTS = (
    ("LG", "Department of Local Government, Punjab", "ਸਥਾਨਕ ਸਰਕਾਰਾਂ ਵਿਭਾਗ, ਪੰਜਾਬ", "स्थानीय शासन विभाग, पंजाब"),
    ("TPT", "Department of Transport, Punjab", "ਟਰਾਂਸਪੋਰਟ ਵਿਭਾਗ, ਪੰਜਾਬ", "परिवहन विभाग, पंजाब"),
)
# Demo desk accounts: (username, full name, role, department, office).
DEMO_STAFF = (
    ("officer", "Harpreet Kaur, Tehsildar Samrala", "officer", "REV", "TEH-SMR"),
    ("operator", "Ravi Kumar, Sewa Kendra Samrala", "operator", "REV", None),
    ("headoffice", "Head Office, Department of Governance Reforms", "head_office", None, None),
)


@contextmanager
def _open_context(settings: Settings) -> Iterator[AppContext]:
    """The application context, built for one command and closed after it."""
    from app.context import AppContext

    context = AppContext.build(settings)
    try:
        yield context
    finally:
        context.close()


def _serves_every_command(context: AppContext) -> WorkerContext:
    """Never called: mypy checks here that the context gives the commands what they ask
    for (the domains' context protocols are checked in ``app.context``)."""
    return context


@app.callback()
def _environment(ctx: typer.Context) -> None:
    if ctx.obj is None:
        ctx.obj = CommandEnvironment(open_context=_open_context)


@app.command()
def init() -> None:
    """Create or upgrade the database, the object store and the development PKI."""
    from app.migrate import upgrade
    from sanad.db import make_engine
    from sanad.storage import MinioStore, make_store

    settings = load_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    store = make_store(settings)
    if isinstance(store, MinioStore):
        store.ensure_bucket()
    store.ping()
    trust_cli.ensure_keys(settings)
    typer.echo(f"ready: database {settings.database_url.split('@')[-1]}, storage {settings.storage_backend}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes; signing is CPU-bound, so one per core (the default).")
    ] = None,
    background: Annotated[
        bool,
        typer.Option(
            help="Embedded (SQLite) deployment: run the background work (batches, notices, escalations, "
            "archive refresh) in the server. With PostgreSQL, `sanad worker` processes do it."
        ),
    ] = True,
) -> None:
    """Serve the API and the verification pages."""
    from app.serving import PortTaken, serve_http
    from sanad.http_protocol import header_deadline_protocol
    from sanad.jobs import uses_job_engine
    from sanad.logs import log_config
    from sanad.metrics import share_metrics_between

    settings = load_settings()
    if background and not uses_job_engine(settings):
        # Read by each server process's settings (uvicorn starts them from the environment).
        os.environ["SANAD_IN_PROCESS_WORKER"] = "true"
    workers = workers if workers is not None else os.cpu_count() or 1
    share_metrics_between(workers)
    try:
        serve_http(
            "app.factory:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=log_config(),
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
            http=header_deadline_protocol(settings.header_read_timeout_seconds),
        )
    except PortTaken as exc:
        typer.echo(f"serve: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command()
def worker(
    # Eight: a chunk's job waits for its timestamps and, at B-LT and B-LTA, for revocation
    # data newer than them (up to a second). With four jobs the two pinned workers of the
    # batch bench kept their cores ~1.33 s a second busy, with eight ~1.41 (B-LTA, ~6% more
    # documents a second; bench/RESULTS.md); two jobs had been 64 -> 76/s against four at B-T.
    concurrency: Annotated[
        int, typer.Option(help="Jobs at once in this process; start more processes (on more machines) to scale.")
    ] = 8,
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue", help="Only these queues (repeatable): batches, long_term, periodic, upkeep; default all"
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this worker's metrics (issuing stages of batch rows) for Prometheus on this port."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics port; keep it private.")] = "127.0.0.1",
) -> None:
    """Run background work: batches, notices, escalations, interrupted approvals and the
    archive refresh. With PostgreSQL this is a Procrastinate worker; run as many as you
    like against the same database and object store. On the embedded deployment it runs
    the same work in this process (`sanad serve` already does)."""
    import threading

    from app.jobs import run_worker, start_in_process
    from sanad.jobs import uses_job_engine
    from sanad.logs import configure as json_logs
    from trust.local import serving_pki

    settings = load_settings()
    json_logs()
    if metrics_port is not None:
        from sanad.metrics import serve_on_own_port

        serve_on_own_port(metrics_host, metrics_port)
    with _open_context(settings) as context, serving_pki(settings):
        context.load_signing_keys()
        if uses_job_engine(settings):
            typer.echo(f"worker: Procrastinate, {concurrency} jobs at once (Ctrl-C to stop)")
            run_worker(context, concurrency=concurrency, queues=queue)
            return
        typer.echo("worker: embedded deployment, in-process runner (Ctrl-C to stop)")
        start_in_process(context)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("worker: stopping")


@department_app.command("add")
def department_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. REV")],
    name_en: Annotated[str, typer.Option("--name-en")],
    name_pa: Annotated[str, typer.Option("--name-pa")],
    name_hi: Annotated[str, typer.Option("--name-hi")],
) -> None:
    """Add an issuing department and give it a signing certificate."""
    from sanad.departments import DepartmentNames, add_department
    from trust.bootstrap import init_pki
    from trust.departments import ensure_department_key
    from trust.paths import served_base_url

    settings = load_settings()
    code = code.upper()
    with database(settings) as session:
        add_department(session, code, DepartmentNames(en=name_en, pa=name_pa, hi=name_hi))
        audit.record(session, action="department.add", subject=f"department:{code}", actor="cli")
    init_pki(settings.keys_dir, base_url=served_base_url(settings.public_base_url))
    ensure_department_key(settings.keys_dir, code, name_en)
    typer.echo(f"added department {code}")


@apikey_app.command("create")
def apikey_create(department: Annotated[str, typer.Option("--department", help="Department code")]) -> None:
    """Create an API key for a department. It is printed once and stored only as a hash."""
    from sanad.departments import create_api_key, get_department

    with database(load_settings()) as session:
        key = create_api_key(session, get_department(session, department.upper()))
        audit.record(
            session,
            action="apikey.create",
            subject=f"department:{department.upper()}",
            actor="cli",
            details={"prefix": key[:12]},
        )
    typer.echo(key)


@app.command("demo-seed")
def demo_seed() -> None:
    """Add the demo department (if absent) and print a fresh API key with an example call."""
    from sanad.departments import DepartmentNames, add_department, create_api_key
    from sanad.models import Department
    from trust.bootstrap import init_pki
    from trust.departments import ensure_department_key
    from trust.paths import served_base_url

    settings = load_settings()
    code, en, *_ = DEMO_DEPARTMENT
    with database(settings) as session:
        for dept_code, dept_en, dept_pa, dept_hi in (DEMO_DEPARTMENT, *DEMO_OTHER_DEPARTMENTS):
            if session.query(Department).filter_by(code=dept_code).one_or_none() is None:
                add_department(session, dept_code, DepartmentNames(en=dept_en, pa=dept_pa, hi=dept_hi))
        department = session.query(Department).filter_by(code=code).one()
        key = create_api_key(session, department)
        passwords = _seed_demo_staff(session)
    init_pki(settings.keys_dir, base_url=served_base_url(settings.public_base_url))
    for dept_code, dept_en, *_ in (DEMO_DEPARTMENT, *DEMO_OTHER_DEPARTMENTS):
        ensure_department_key(settings.keys_dir, dept_code, dept_en)
    example = Path(__file__).resolve().parent.parent / "templates" / "income-certificate" / "example.json"
    _seed_demo_locker(settings, code, json.loads(example.read_text("utf-8")))
    typer.echo(
        f"\nDemo department {code} ({en}). API key (shown once):\n\n    {key}\n\n"
        f"Issue a certificate:\n\n    curl -s -X POST {settings.public_base_url}/api/v1/documents \\\n"
        f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        f"      --data @{example}\n"
    )
    for username, password in passwords.items():
        typer.echo(f"Desk account {username!r} (sign in at {settings.public_base_url}/desk): password {password}")


DEMO_MOBILE = "9876543210"


def _seed_demo_staff(session: Session) -> dict[str, str]:
    """Create the demo desk accounts that do not exist yet; returns their new passwords."""
    import secrets

    from accounts.models import StaffRole, StaffUser
    from accounts.staff import add_staff
    from sanad.departments import get_department

    passwords = {}
    for username, full_name, role, department, office in DEMO_STAFF:
        if session.query(StaffUser).filter_by(username=username).one_or_none() is not None:
            continue
        password = secrets.token_urlsafe(12)
        add_staff(
            session,
            username=username,
            password=password,
            full_name=full_name,
            role=StaffRole(role),
            department_id=get_department(session, department).id if department else None,
            office_code=office,
            now=datetime.now(UTC),
        )
        passwords[username] = password
    return passwords


def _seed_demo_locker(settings: Settings, department_code: str, example: dict[str, object]) -> None:
    """Two certificates for the demo citizen, once (idempotency keys make reruns no-ops)."""
    from issuer import service
    from issuer.schemas import DocumentCreate
    from sanad.db import session_scope
    from sanad.departments import get_department
    from sanad.jobs import for_a_command
    from trust.local import serving_pki

    with (
        _open_context(for_a_command(settings)) as context,
        serving_pki(settings),
        session_scope(context.sessions) as session,
    ):
        department = get_department(session, department_code)
        for n, purpose in enumerate(("Scholarship application", "Bank loan"), start=1):
            data = {**example["data"], "purpose": purpose}  # type: ignore[dict-item]
            request = DocumentCreate(
                type="income-certificate", citizen_id="PB-CIT-0001", citizen_mobile=DEMO_MOBILE, data=data
            )
            service.issue_document(session, context.kit, department, request, idempotency_key=f"demo-locker-{n}")
    typer.echo(
        f"\nDemo locker: {settings.public_base_url}/locker — sign in with {DEMO_MOBILE}; "
        "the one-time code is printed in the server log."
    )


@app.command()
def fsck(fix: Annotated[bool, typer.Option("--fix", help="Delete the unreferenced objects")] = False) -> None:
    """Report stored objects that no row references (left by interrupted issuances or uploads)."""
    from intake.applications import find_orphans as find_orphan_attachments
    from issuer.service import find_orphans
    from locker.uploads import find_orphans as find_orphan_uploads
    from sanad.storage import make_store

    settings = load_settings()
    store = make_store(settings)
    with database(settings) as session:
        orphans = (
            find_orphans(session, store) + find_orphan_uploads(session, store) + find_orphan_attachments(session, store)
        )
    for key in orphans:
        typer.echo(("removed " if fix else "orphan ") + key)
        if fix:
            store.delete(key)
    typer.echo(f"{len(orphans)} unreferenced object(s)" + (" removed" if fix and orphans else ""))
    if orphans and not fix:
        raise typer.Exit(1)


def main() -> None:
    from sanad.errors import SanadError

    try:
        app()
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
