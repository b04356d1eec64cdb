"""``sanad keys``: the development PKI's keys — create them, import a certified key, list,
rotate and revoke department keys, rotate the TSA's key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

import audit
from sanad.cli import database, load_settings
from sanad.settings import Settings

keys_app = typer.Typer()
"""Merged into the root's ``keys`` group, beside the issuer's token-key commands."""


def ensure_keys(settings: Settings) -> None:
    """The CAs, the TSA, the status-list key and a signing key per department, if absent."""
    from sanad.departments import list_departments
    from trust.bootstrap import init_pki
    from trust.departments import ensure_department_key
    from trust.paths import served_base_url
    from trust.service_keys import ensure_service_key

    if init_pki(settings.keys_dir, base_url=served_base_url(settings.public_base_url)):
        typer.echo(f"created the development PKI in {settings.keys_dir}")
    # The status-list key is made here, once, not by the first of several workers to need it.
    ensure_service_key(settings.keys_dir, "status")
    with database(settings) as session:
        for department in list_departments(session):
            if ensure_department_key(settings.keys_dir, department.code, department.name_en):
                audit.record(session, action="key.enrol", subject=f"department:{department.code}", actor="cli")
                typer.echo(f"issued a signing certificate for {department.code}")


@keys_app.command("init")
def keys_init() -> None:
    """Create the development root and issuing CAs, and a signing key per department (if absent)."""
    ensure_keys(load_settings())


@keys_app.command("import")
def keys_import(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    certificate: Annotated[
        Path, typer.Option("--certificate", help="PEM certificate from the issuing CA", exists=True)
    ],
    key: Annotated[Path, typer.Option("--key", help="PEM private key (EC) the certificate is for", exists=True)],
) -> None:
    """Make a key file and its certificate (e.g. from the state's CA) a department's active
    signing key. The certificate must be for that key, from the issuing CA in the keys
    directory, valid now, and allow non-repudiation."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from trust.departments import CertificateRejected, import_department_key

    settings = load_settings()
    try:
        parsed = x509.load_pem_x509_certificate(certificate.read_bytes())
        private_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise CertificateRejected("only EC keys are supported")
        with database(settings) as session:
            generation = import_department_key(settings.keys_dir, code.upper(), parsed, private_key)
            audit.record(
                session,
                action="key.enrol",
                subject=f"department:{code.upper()}",
                actor="cli",
                details={"key_id": generation.key_id},
            )
    except ValueError as e:  # unreadable PEM or a rejected certificate
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")


@keys_app.command("list")
def keys_list() -> None:
    """Every certificate of the PKI with its key id, validity and status."""
    from trust.departments import all_departments, current_generation, department_generations
    from trust.revoked import revoked_serials

    settings = load_settings()
    revoked = dict(revoked_serials(settings.keys_dir))
    for code in all_departments(settings.keys_dir):
        active = current_generation(settings.keys_dir, code)
        for generation in department_generations(settings.keys_dir, code):
            certificate = generation.certificate
            status = "revoked" if certificate.serial_number in revoked else "active"
            if status == "active" and (active is None or active.key_id != generation.key_id):
                status = "retired"
            where = "pkcs11" if generation.pkcs11 else "file"
            typer.echo(
                f"{code:8} {generation.key_id}  {certificate.not_valid_before_utc:%Y-%m-%d} .. "
                f"{certificate.not_valid_after_utc:%Y-%m-%d}  {status:8} {where}"
            )


@keys_app.command("rotate")
def keys_rotate(code: Annotated[str, typer.Argument(help="Department code")]) -> None:
    """Give a department a new signing key and certificate. Documents signed with the old
    one stay valid; the trust list shows both. Restart the server (or it picks the new key
    up on its next start) so it signs with the new key."""
    from sanad.departments import get_department
    from trust.departments import rotate_department_key

    settings = load_settings()
    with database(settings) as session:
        name = get_department(session, code.upper()).name_en
        generation = rotate_department_key(settings.keys_dir, code.upper(), name)
        audit.record(
            session,
            action="key.rotate",
            subject=f"department:{code.upper()}",
            actor="cli",
            details={"key_id": generation.key_id},
        )
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")


@keys_app.command("revoke")
def keys_revoke(
    code: Annotated[str, typer.Argument(help="Department code")],
    key_id: Annotated[str | None, typer.Option("--key-id", help="Which key (default: the active one)")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="When the key was compromised (default: now), ISO 8601 with a zone")
    ] = None,
    reason: Annotated[str, typer.Option(help="CRL reason, e.g. key_compromise, superseded")] = "key_compromise",
) -> None:
    """Revoke a department's signing certificate in the development CA's CRL. Signatures
    timestamped before ``--at`` stay valid; later ones fail."""
    from trust.departments import current_generation, department_generations
    from trust.revoked import revoke_certificate

    settings = load_settings()
    code = code.upper()
    generations = department_generations(settings.keys_dir, code)
    chosen = current_generation(settings.keys_dir, code) if key_id is None else None
    chosen = chosen or next((g for g in generations if g.key_id == key_id), None)
    if chosen is None:
        typer.echo(f"error: department {code} has no key {key_id or ''}".rstrip(), err=True)
        raise typer.Exit(1)
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        typer.echo("error: --at needs a time zone, e.g. 2026-11-24T10:00:00+05:30", err=True)
        raise typer.Exit(2)
    with database(settings) as session:
        revoke_certificate(settings.keys_dir, chosen.certificate, revoked_at=when, reason=reason)
        audit.record(
            session,
            action="key.revoke",
            subject=f"department:{code}",
            actor="cli",
            details={"key_id": chosen.key_id, "revoked_at": when.isoformat(), "reason": reason},
        )
    typer.echo(f"revoked {code} key {chosen.key_id} as of {when.isoformat()}")


@keys_app.command("rotate-tsa")
def keys_rotate_tsa() -> None:
    """Give the development TSA a new key and certificate (the old one stays trusted for
    the timestamps it made)."""
    from trust.keys import key_id
    from trust.tsa_keys import rotate_tsa_key

    pair = rotate_tsa_key(load_settings().keys_dir)
    typer.echo(f"the TSA now signs with key {key_id(pair.certificate)}")
