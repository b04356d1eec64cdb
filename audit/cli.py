"""``sanad audit``: check the whole log, export it for a third party, prove one entry, and
sign a checkpoint now."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sanad.cli import app_context, database, load_settings

if TYPE_CHECKING:
    from audit.dependencies import AuditContext

app = typer.Typer(name="audit", help="The append-only audit log.", no_args_is_help=True)
"""``sanad audit``; the root command adds it."""


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Recompute every entry's leaf hash and the tree, check every checkpoint's signature,
    timestamp and consistency with the next. Names every entry edited, deleted or reordered;
    exit status 1 when anything does not hold."""
    from audit.verification import verify_log

    settings = load_settings()
    context: AuditContext
    with app_context(ctx, settings) as context, context.sessions() as session:
        report = verify_log(session, context.audit_notary)
    for finding in report.findings:
        typer.echo(f"{finding.kind}: {finding.message}")
    summary = f"{report.entries} entries (the head counts {report.head}), {report.checkpoints} checkpoints"
    if report.intact:
        typer.echo(f"intact: {summary}")
        return
    typer.echo(f"NOT INTACT: {len(report.findings)} problems in {summary}", err=True)
    raise typer.Exit(1)


@app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output")] = None,
) -> None:
    """The entries, the checkpoints and their proofs as JSON Lines, for a third party to verify."""
    from audit.checkpoints import origin_of
    from audit.export import export_jsonl

    settings = load_settings()
    with database(settings) as session:
        lines = export_jsonl(session, origin=origin_of(settings.public_base_url))
        if out is None:
            sys.stdout.writelines(lines)
        else:
            with out.open("w", encoding="utf-8") as f:
                f.writelines(lines)


@app.command("prove")
def prove(ctx: typer.Context, entry: Annotated[int, typer.Argument(help="The entry's index")]) -> None:
    """The inclusion proof of ENTRY in the latest checkpoint (JSON), and whether it verifies."""
    from audit.export import NoSuchEntry, NotYetCheckpointed
    from audit.export import prove as prove_entry

    settings = load_settings()
    context: AuditContext
    with app_context(ctx, settings) as context, context.sessions() as session:
        try:
            proof = prove_entry(session, context.audit_notary, entry)
        except (NoSuchEntry, NotYetCheckpointed) as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(2) from e
    typer.echo(json.dumps(proof.as_json(), ensure_ascii=False, indent=2))
    if not proof.verified:
        typer.echo(f"NOT VERIFIED: {proof.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"verified: entry {entry} is in the signed tree of {proof.tree_size} entries", err=True)


@app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Sign and timestamp a checkpoint of the log now."""
    from audit.checkpoints import TimestampUnavailable, make_checkpoint, origin_of

    settings = load_settings()
    context: AuditContext
    try:
        with app_context(ctx, settings) as context, context.sessions.begin() as session:
            made = make_checkpoint(session, context.audit_notary, origin=origin_of(settings.public_base_url))
            size, root = made.tree_size, bytes(made.root_hash).hex()
    except TimestampUnavailable as e:
        typer.echo(f"no checkpoint was made: {e}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"checkpoint: {size} entries, root {root}")
