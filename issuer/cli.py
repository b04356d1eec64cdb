"""The issuer's commands: ``sanad issue``, ``sanad archive refresh``, and the ``sanad keys``
commands for department keys kept in a PKCS#11 token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import audit
from sanad.cli import app_context, database, load_settings

if TYPE_CHECKING:
    from issuer.dependencies import IssuerContext

#: The demo department ``sanad demo-seed`` creates.
DEFAULT_DEPARTMENT = "REV"

app = typer.Typer()
"""Merged into the root command: ``issue`` and the ``archive`` group."""
archive_app = typer.Typer(help="Long-term archive: renew archival timestamps (PAdES B-LTA).", no_args_is_help=True)
app.add_typer(archive_app, name="archive")
keys_app = typer.Typer()
"""Merged into the root's ``keys`` group, beside the PKI's own key commands."""

_MODULE_HELP = "PKCS#11 module (default: SANAD_PKCS11_MODULE, else SoftHSM2's)"


@app.command()
def issue(
    ctx: typer.Context,
    type_: Annotated[str, typer.Option("--type", help="Template type, e.g. income-certificate")],
    citizen: Annotated[str, typer.Option("--citizen", help="The holder's identifier")],
    data: Annotated[Path, typer.Option("--data", help="JSON file with the template's fields", exists=True)],
    mobile: Annotated[str | None, typer.Option("--mobile", help="The holder's mobile number (their locker)")] = None,
    department: Annotated[str, typer.Option("--department", help="Issuing department code")] = DEFAULT_DEPARTMENT,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the signed PDF here")] = None,
) -> None:
    """Issue a document from the shell (as the API would) and print its record."""
    from issuer import service
    from issuer.schemas import DocumentCreate
    from sanad.db import session_scope
    from sanad.departments import get_department
    from sanad.errors import SanadError
    from sanad.jobs import for_a_command
    from trust.local import serving_pki

    settings = for_a_command(load_settings())
    context: IssuerContext
    with app_context(ctx, settings) as context:
        try:
            with serving_pki(settings), session_scope(context.sessions) as session:
                dept = get_department(session, department.upper())
                request = DocumentCreate(
                    type=type_, citizen_id=citizen, citizen_mobile=mobile, data=json.loads(data.read_text("utf-8"))
                )
                document, _ = service.issue_document(session, context.kit, dept, request)
                if out is not None:
                    out.write_bytes(context.store.get(document.storage_key))
                warnings = service.issue_warnings(session, document)
                record = service.to_read(document, dept, context.kit, warnings=warnings).model_dump_json(indent=2)
        except SanadError as e:
            typer.echo(f"error: {e.message}", err=True)
            raise typer.Exit(1) from e
    typer.echo(record)


@archive_app.command("refresh")
def archive_refresh(
    ctx: typer.Context,
    within_days: Annotated[
        int | None, typer.Option(help="Renew when the TSA certificate expires within this many days")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most documents per run")] = 1000,
    document: Annotated[list[str] | None, typer.Option("--document", help="Only this document (repeatable)")] = None,
) -> None:
    """Raise documents issued at B-T (their revocation data could not be had then) to the
    deployment's level, and add a new archival timestamp to B-LTA documents whose newest
    one's TSA certificate expires soon. Run it daily (cron); each run does what is due and
    exits."""
    from issuer import service
    from sanad.db import session_scope
    from trust.local import serving_pki

    settings = load_settings()
    context: IssuerContext
    with app_context(ctx, settings) as context, serving_pki(settings), session_scope(context.sessions) as session:
        outcome = service.refresh_archives(
            session,
            context.kit,
            now=datetime.now(UTC),
            within=timedelta(days=within_days or settings.archive_refresh_days),
            limit=limit,
            document_ids=document,
        )
    typer.echo(f"renewed {len(outcome.refreshed)} archival timestamps")
    typer.echo(f"raised {len(outcome.raised)} documents to {context.kit.signers.profile.level}")
    for document_id, why in outcome.waiting.items():
        typer.echo(f"still at B-T {document_id}: {why}", err=True)
    for document_id, error in outcome.failed.items():
        typer.echo(f"failed {document_id}: {error}", err=True)
    raise typer.Exit(1 if outcome.failed else 0)


@keys_app.command("enroll-pkcs11")
def keys_enroll_pkcs11(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    token: Annotated[str, typer.Option("--token", help="Label of the PKCS#11 token to generate the key in")],
    module: Annotated[str | None, typer.Option("--module", help=_MODULE_HELP)] = None,
) -> None:
    """Generate a department's new signing key inside a PKCS#11 token and make it active.

    The user PIN comes from SANAD_PKCS11_PIN; the key never leaves the token."""
    from issuer.pkcs11 import default_module_path, enroll
    from sanad.departments import get_department
    from sanad.errors import SanadError
    from trust.bootstrap import init_pki
    from trust.paths import served_base_url

    settings = load_settings()
    if not settings.pkcs11_pin:
        typer.echo("error: set SANAD_PKCS11_PIN to the token's user PIN", err=True)
        raise typer.Exit(2)
    module_path = module or settings.pkcs11_module or default_module_path()
    if module_path is None:
        typer.echo("error: no PKCS#11 module: pass --module or set SANAD_PKCS11_MODULE (or install softhsm2)", err=True)
        raise typer.Exit(2)
    code = code.upper()
    try:
        with database(settings) as session:
            name = get_department(session, code).name_en
            init_pki(settings.keys_dir, base_url=served_base_url(settings.public_base_url))
            generation = enroll(
                settings.keys_dir, code, name, module_path=module_path, pin=settings.pkcs11_pin, token_label=token
            )
            audit.record(
                session,
                action="key.enrol",
                subject=f"department:{code}",
                actor="cli",
                details={"key_id": generation.key_id, "token": token},
            )
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(1) from e
    typer.echo(generation.key_id)


@keys_app.command("import-pkcs11")
def keys_import_pkcs11(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    token: Annotated[str, typer.Option("--token", help="Label of the PKCS#11 token holding the key")],
    certificate: Annotated[
        Path, typer.Option("--certificate", help="PEM certificate for the token's key", exists=True)
    ],
    key_label: Annotated[str | None, typer.Option("--key-label", help="The key's label in the token")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="The key's CKA_ID in the token, hex")] = None,
    module: Annotated[str | None, typer.Option("--module", help=_MODULE_HELP)] = None,
) -> None:
    """Make a key already in a token, with its certificate (e.g. from the state's CA), a
    department's active signing key. The PIN comes from SANAD_PKCS11_PIN."""
    from cryptography import x509

    from issuer.pkcs11 import default_module_path, register
    from sanad.errors import SanadError

    settings = load_settings()
    module_path = module or settings.pkcs11_module or default_module_path()
    if not settings.pkcs11_pin or module_path is None:
        typer.echo("error: set SANAD_PKCS11_PIN and SANAD_PKCS11_MODULE (or pass --module)", err=True)
        raise typer.Exit(2)
    try:
        with database(settings) as session:
            generation = register(
                settings.keys_dir,
                code.upper(),
                x509.load_pem_x509_certificate(certificate.read_bytes()),
                module_path=module_path,
                pin=settings.pkcs11_pin,
                token_label=token,
                key_label=key_label,
                key_id=bytes.fromhex(key_id) if key_id else None,
            )
            audit.record(
                session,
                action="key.enrol",
                subject=f"department:{code.upper()}",
                actor="cli",
                details={"key_id": generation.key_id, "token": token},
            )
    except (SanadError, ValueError) as e:
        typer.echo(f"error: {getattr(e, 'message', e)}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")
