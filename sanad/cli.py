"""What every domain's commands share: the settings, a committing database session, and
the application context that the composition root (``app.cli``) builds for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from sanad.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def load_settings() -> Settings:
    """The deployment's settings; a bad value ends the command with exit status 2."""
    try:
        return Settings()
    except ValueError as e:
        typer.echo(f"configuration error: {e}", err=True)
        raise typer.Exit(2) from e


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """A session for a command that needs only the database. It commits when the block
    succeeds and rolls back on any error (services only flush); the engine is closed after."""
    from sanad.db import make_engine, make_session_factory, session_scope  # SQLAlchemy: not for --help

    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@dataclass(frozen=True)
class CommandEnvironment:
    """What the root command puts in ``ctx.obj`` for every sub-command."""

    open_context: Callable[[Settings], AbstractContextManager[Any]]
    """Builds the application's long-lived context (engine, store, signers, trust
    anchors) and closes it when the block ends. A domain annotates what it gets with
    its own context protocol, as its endpoints do, so no domain imports the root."""


def app_context(ctx: typer.Context, settings: Settings) -> AbstractContextManager[Any]:
    """The application context, for a command run through the ``sanad`` root command."""
    environment = ctx.find_object(CommandEnvironment)
    if environment is None:
        raise RuntimeError("run this command through the 'sanad' root command, which builds the context")
    return environment.open_context(settings)
