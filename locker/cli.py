"""The locker's commands: ``sanad requester add`` registers a third party (an OAuth client)
that asks citizens for their documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from sanad.cli import database, load_settings

app = typer.Typer(
    name="requester", help="Requesters: third parties that ask citizens for documents (OAuth).", no_args_is_help=True
)
"""``sanad requester``; the root command adds it."""


@app.command("add")
def requester_add(
    name: Annotated[str, typer.Option("--name", help='Shown to citizens, e.g. "ABC Bank"')],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Where citizens return with a code (https); repeatable")
    ],
    types: Annotated[str, typer.Option("--types", help="Document types it may ask for, comma-separated")],
) -> None:
    """Register a requester (an OAuth client). Its client secret is printed once and stored only as a hash."""
    from issuer.templates import load_templates
    from locker.requesters import register_requester, scope_for

    settings = load_settings()
    known_types = load_templates(settings.templates_dir).keys()
    with database(settings) as session:
        new = register_requester(
            session,
            name=name,
            redirect_uris=redirect_uri,
            document_types=types.split(","),
            known_types=known_types,
            now=datetime.now(UTC),
        )
        client_id = new.requester.client_id
        scopes = " ".join(scope_for(t) for t in new.requester.document_types.split())
    typer.echo(
        f"Requester {name!r} registered. Give it these; the secret is not shown again:\n\n"
        f"    client_id:     {client_id}\n    client_secret: {new.client_secret}\n    scopes:        {scopes}\n\n"
        f"Authorization endpoint {settings.public_base_url}/oauth/authorize (PKCE S256 required),\n"
        f"token endpoint {settings.public_base_url}/oauth/token."
    )
