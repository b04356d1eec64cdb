"""``sanad digilocker``: register a department with DigiLocker, and watch its pushes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sanad.cli import database, load_settings

app = typer.Typer(
    name="digilocker", help="DigiLocker: pull and push through the national locker.", no_args_is_help=True
)
"""``sanad digilocker``; the root command adds it."""


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        name, sep, code = value.partition("=")
        if not sep or not name.strip() or not code.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
        pairs[name.strip()] = code.strip()
    return pairs


@app.command("configure")
def configure(
    code: Annotated[str, typer.Argument(help="The department's code, e.g. REV")],
    issuer_id: Annotated[str, typer.Option("--issuer-id", help="The issuer id the partner portal assigned")],
    api_key: Annotated[
        str,
        typer.Option(
            "--api-key",
            envvar="SANAD_DIGILOCKER_API_KEY",
            help="The API key entered on the portal for the pull APIs (or SANAD_DIGILOCKER_API_KEY)",
            show_default=False,
        ),
    ],
    client_id: Annotated[str | None, typer.Option("--client-id", help="The partner API client id (pushing)")] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            envvar="SANAD_DIGILOCKER_CLIENT_SECRET",
            help="The partner API client secret (or SANAD_DIGILOCKER_CLIENT_SECRET)",
            show_default=False,
        ),
    ] = None,
    doc_type: Annotated[
        list[str] | None,
        typer.Option("--doc-type", help="TEMPLATE=CODE, e.g. learner-licence=DRVLR (repeatable; over the defaults)"),
    ] = None,
    search: Annotated[
        list[str] | None,
        typer.Option("--search", help="ELEMENT=certificate_number|mobile, as set on the portal (repeatable)"),
    ] = None,
    partner_url: Annotated[
        str | None, typer.Option("--partner-url", help="The partner API's address (the sandbox's, to test)")
    ] = None,
) -> None:
    """Register a department's DigiLocker credentials. The secrets are stored encrypted
    and never printed or logged."""
    from digilocker.configuration import configure as save
    from digilocker.configuration import registration
    from sanad.departments import get_department

    settings = load_settings()
    with database(settings) as session:
        department = get_department(session, code.upper())
        save(
            session,
            settings.secret_key,
            department,
            issuer_id=issuer_id,
            api_key=api_key,
            client_id=client_id,
            client_secret=client_secret,
            doc_types=_pairs(doc_type, "--doc-type") or None,
            search_fields=_pairs(search, "--search") or None,
            partner_url=partner_url,
        )
        saved = registration(session, settings.secret_key, department.id)
    assert saved is not None
    base = settings.public_base_url
    typer.echo(
        f"DigiLocker issuer {saved.issuer_id} for {department.code}.\n"
        f"  Pull URI API: {base}/digilocker/v1/pull-uri\n  Pull Doc API: {base}/digilocker/v1/pull-doc\n"
        f"  search fields: {', '.join(f'{k}={v}' for k, v in saved.search_fields.items())}\n"
        f"  doc types: {', '.join(f'{k}={v}' for k, v in sorted(saved.doc_types.items()))}\n"
        f"  pushing: {'client ' + saved.client_id if saved.client_id and saved.client_secret else 'not configured'}"
        f" ({saved.partner_url})"
    )


@app.command("pushes")
def pushes(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, sent, failed or skipped; default all")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> None:
    """Pushes to citizens' DigiLocker accounts, newest first, with the last error of each."""
    from digilocker.pushing import list_pushes

    with database(load_settings()) as session:
        rows = list_pushes(session, status, limit)
    for row in rows:
        error = f"  {row.last_error}" if row.last_error else ""
        typer.echo(f"{row.id}\t{row.document_id}\t{row.action}\t{row.status}\t{row.attempts}{error}")
    typer.echo(f"{len(rows)} push(es)")


@app.command("retry")
def retry(push_id: Annotated[int, typer.Argument(help="A failed push's id (from 'sanad digilocker pushes')")]) -> None:
    """Try a failed push again from the start."""
    from digilocker.pushing import retry_push

    with database(load_settings()) as session:
        if not retry_push(session, push_id, datetime.now(UTC)):
            typer.echo(f"no failed push {push_id}", err=True)
            raise typer.Exit(1)
    typer.echo(f"push {push_id} will be tried again")


@app.command("consent-key")
def consent_key(
    public_key: Annotated[
        Path,
        typer.Argument(
            help="The consent manager's public key (PEM: RSA, EC or Ed25519)",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
) -> None:
    """Set the public key API Setu's consent artifacts are verified with (one per
    deployment; replaces the earlier one). Prints its SHA-256 fingerprint to compare
    with the one the consent manager publishes."""
    from digilocker.consent import configure_key
    from sanad.errors import InvalidInput

    settings = load_settings()
    try:
        with database(settings) as session:
            sha256 = configure_key(session, public_key.read_text("utf-8"), "cli", datetime.now(UTC))
    except InvalidInput as e:
        typer.echo(f"{public_key}: {e.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"consent manager key set; SHA-256 {sha256}")
