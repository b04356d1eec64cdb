"""``sanad staff add``, on the embedded backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_staff_add_asks_for_a_long_enough_password(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व")[0] == 0
    password = "a long enough password"

    result = CliRunner().invoke(
        app,
        ["staff", "add", "tehsildar-ldh", "--name", "Tehsildar Ludhiana", "--role", "officer", "--department", "REV"],
        input=f"{password}\n{password}\n",
    )
    short = CliRunner().invoke(
        app, ["staff", "add", "x", "--name", "X", "--role", "officer", "--department", "REV"], input="short\nshort\n"
    )

    assert result.exit_code == 0, result.output
    assert "added officer tehsildar-ldh" in result.output
    assert short.exit_code != 0
    assert "at least 12 characters" in str(short.exception)  # main() prints it as "error: ..."
