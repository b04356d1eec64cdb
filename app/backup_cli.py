"""``sanad backup``: create, verify and restore backups of a deployment (``app/backup.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sanad.cli import load_settings

app = typer.Typer(help="Back up a deployment, check a backup, restore one.", no_args_is_help=True)

Directory = Annotated[Path, typer.Argument(help="The backup's directory.")]


def _fail(message: str) -> None:
    typer.echo(f"backup: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def create(
    directory: Directory,
    private_keys: Annotated[
        bool,
        typer.Option(
            "--private-keys",
            help="Include the PKI's private keys, encrypted with SANAD_BACKUP_PASSPHRASE (12+ characters).",
        ),
    ] = False,
) -> None:
    """Back up the database, every object (with checksums) and the PKI's public material
    into a new DIRECTORY."""
    from app import backup
    from sanad.db import make_engine
    from sanad.storage import make_store

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        manifest = backup.create(directory, settings, engine, make_store(settings), private_keys=private_keys)
    except backup.BackupError as e:
        _fail(str(e))
        return
    finally:
        engine.dispose()
    keys = manifest["private_keys"]
    typer.echo(
        f"backup: {directory}: database ({manifest['database']['engine']}), {len(manifest['objects'])} objects, "
        f"{len(manifest['documents'])} documents, {len(manifest['pki'])} PKI files, "
        + (f"{keys['count']} private keys (encrypted)" if keys else "no private keys")
    )


@app.command()
def verify(directory: Directory) -> None:
    """Check every file of a backup against its checksum and every document against its
    file (with SANAD_BACKUP_PASSPHRASE set, also that the private keys open)."""
    from app import backup

    try:
        problems = backup.verify(directory)
        manifest = backup.read_manifest(directory)
    except backup.BackupError as e:
        _fail(str(e))
        return
    for problem in problems.items:
        typer.echo(f"backup: {problem}", err=True)
    if problems:
        _fail(f"{len(problems.items)} problems in {directory}")
    typer.echo(
        f"backup: {directory} is sound: {len(manifest['objects'])} objects, {len(manifest['documents'])} documents, "
        f"made {manifest['created_at']}"
    )


@app.command()
def restore(directory: Directory) -> None:
    """Restore a backup into this deployment (SANAD_* settings), whose database must be
    empty. Private keys are restored when SANAD_BACKUP_PASSPHRASE is set."""
    from app import backup
    from sanad.db import make_engine
    from sanad.storage import make_store

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        restored = backup.restore(directory, settings, engine, make_store(settings))
    except backup.BackupError as e:
        _fail(str(e))
        return
    finally:
        engine.dispose()
    keys = (
        "private keys not restored (set SANAD_BACKUP_PASSPHRASE)"
        if restored.private_keys is None
        else f"{restored.private_keys} private keys"
    )
    typer.echo(
        f"backup: restored {restored.documents} documents, {restored.objects} objects, "
        f"{restored.pki_files} PKI files, {keys}"
    )
