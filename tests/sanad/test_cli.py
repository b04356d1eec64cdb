"""What the domains' commands share: a committing database session and the context the
root command provides."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from sanad.cli import CommandEnvironment, app_context, database
from sanad.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'cli.db'}")
    with database(settings) as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    return settings


def rows(settings: Settings) -> list[int]:
    with database(settings) as session:
        return [n for (n,) in session.execute(text("SELECT n FROM t ORDER BY n"))]


def insert(settings: Settings, n: int, *, fail: bool = False) -> None:
    with database(settings) as session:
        session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        if fail:
            raise RuntimeError("the command failed")


def test_database_commits_the_block_and_rolls_back_a_failed_one(settings: Settings) -> None:
    insert(settings, 1)
    with pytest.raises(RuntimeError, match="the command failed"):
        insert(settings, 2, fail=True)

    assert rows(settings) == [1]


def test_a_command_gets_the_context_the_root_provides(settings: Settings) -> None:
    opened: list[str] = []

    @contextmanager
    def open_context(given: Settings) -> Iterator[str]:
        opened.append("open")
        yield f"context for {given.database_url}"
        opened.append("closed")

    root = typer.Typer()

    @root.callback()
    def provide(ctx: typer.Context) -> None:
        ctx.obj = CommandEnvironment(open_context=open_context)

    @root.command()
    def show(ctx: typer.Context) -> None:
        with app_context(ctx, settings) as context:
            typer.echo(context)

    result = CliRunner().invoke(root, ["show"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"context for {settings.database_url}"
    assert opened == ["open", "closed"]


def test_without_the_root_there_is_no_context(settings: Settings) -> None:
    alone = typer.Typer()

    @alone.command()
    def show(ctx: typer.Context) -> None:
        app_context(ctx, settings)

    @alone.command()
    def other() -> None: ...

    result = CliRunner().invoke(alone, ["show"])

    assert isinstance(result.exception, RuntimeError)
    assert "'sanad' root command" in str(result.exception)
