"""The verifier's commands: ``sanad verify`` (online, or ``--offline`` from a cached trust
bundle) and ``sanad trust fetch``, which caches that bundle."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from sanad.cli import app_context, load_settings

if TYPE_CHECKING:
    from verifier.dependencies import VerifierContext

app = typer.Typer()
"""Merged into the root command: ``verify`` and the ``trust`` group."""
trust_app = typer.Typer(help="The trust bundle offline verification uses.", no_args_is_help=True)
app.add_typer(trust_app, name="trust")


def trust_cache_dir() -> Path:
    """Where the trust bundle is kept: ``$SANAD_TRUST_CACHE``, else ``~/.cache/sanad/trust``."""
    configured = os.environ.get("SANAD_TRUST_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "sanad" / "trust"


@app.command()
def verify(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(metavar="FILE_OR_QR", help="A PDF; with --offline also a QR code's text")],
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only the trust bundle of 'sanad trust fetch': no server, no network")
    ] = False,
    trust_dir: Annotated[
        Path | None,
        typer.Option("--trust-dir", help="The trust bundle (default $SANAD_TRUST_CACHE or ~/.cache/sanad/trust)"),
    ] = None,
) -> None:
    """Verify a PDF against the trust anchors and the registry, or (--offline) a PDF or a
    QR code's text against the cached trust bundle. Exit 0 only for TOTAL_PASSED."""
    if offline:
        _verify_offline(target, trust_dir or trust_cache_dir())
    file = Path(target)
    if not file.is_file():
        raise typer.BadParameter(f"{target} is not a file", param_hint="FILE_OR_QR")
    from sanad.db import session_scope
    from sanad.errors import SanadError
    from trust.local import serving_pki
    from verifier.schemas import VerificationResult
    from verifier.service import verify_pdf

    settings = load_settings()
    context: VerifierContext
    with app_context(ctx, settings) as context:
        try:
            with serving_pki(settings), session_scope(context.sessions) as session:
                result = VerificationResult.of(verify_pdf(session, context.trust, file.read_bytes()))
        except SanadError as e:
            typer.echo(f"error: {e.message}", err=True)
            raise typer.Exit(2) from e
    typer.echo(result.model_dump_json(indent=2))
    raise typer.Exit(0 if result.indication == "TOTAL_PASSED" else 1)


def _verify_offline(target: str, trust_dir: Path) -> NoReturn:
    from verifier.bundle import TrustBundle, TrustBundleError
    from verifier.offline import verify_pdf_offline, verify_seal_offline

    try:
        bundle = TrustBundle.load(trust_dir)
    except TrustBundleError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    try:
        content: bytes | None = Path(target).read_bytes()
    except OSError:  # not a file: the QR code's text itself (a seal may be too long for a name)
        content = None
    extra = []
    if content is not None and content.lstrip()[:5] == b"%PDF-":
        verdict = verify_pdf_offline(content, bundle)
        until = bundle.crls_current_until()
        if until is None:
            extra.append("revocation lists: NONE in the trust bundle; run 'sanad trust fetch'")
        elif until > datetime.now(UTC):
            extra.append(f"revocation lists: current until {until.isoformat()}")
        else:
            extra.append(f"revocation lists: STALE since {until.isoformat()}; run 'sanad trust fetch'")
    else:
        text = content.decode("utf-8", "replace") if content is not None else target
        verdict = verify_seal_offline(text, bundle)
    typer.echo("\n".join([*verdict.report(), *extra]))
    raise typer.Exit(0 if verdict.indication == "TOTAL_PASSED" else 1)


@trust_app.command("fetch")
def trust_fetch(
    source: Annotated[
        str | None, typer.Option("--from", help="Base URL of the Sanad to trust (default $SANAD_PUBLIC_BASE_URL)")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to keep it (default $SANAD_TRUST_CACHE or ~/.cache/sanad/trust)")
    ] = None,
) -> None:
    """Download the trust anchors, trust list, JWKS and signed status list for
    'sanad verify --offline', after checking they hold together."""
    from verifier.bundle import TrustBundleError
    from verifier.bundle_fetch import fetch_bundle
    from verifier.trust import iso

    base = source or load_settings().public_base_url
    target = directory or trust_cache_dir()
    try:
        bundle = fetch_bundle(base)
    except TrustBundleError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    bundle.save(target)
    typer.echo(f"trust bundle from {base} saved in {target} at {iso(bundle.fetched_at)}")
