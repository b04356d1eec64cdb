"""Running ``sanad`` as an operator would, on an embedded deployment in a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from trust.local import free_port


def embedded_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every ``SANAD_*`` setting at ``tmp_path`` (SQLite, files, a fresh keys
    directory) and work from there; returns ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SANAD_") and not name.startswith("SANAD_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE_URL", f"sqlite:///{tmp_path / 'sanad.db'}")
    monkeypatch.setenv("SANAD_STORAGE_PATH", str(tmp_path / "objects"))
    monkeypatch.setenv("SANAD_KEYS_DIR", str(tmp_path / "keys"))
    # Signing commands serve the development PKI on this address while they run.
    monkeypatch.setenv("SANAD_PUBLIC_BASE_URL", f"http://127.0.0.1:{free_port()}")
    return tmp_path


def sanad(*args: str) -> tuple[int, str]:
    """Run ``sanad ARGS``; its exit status and output."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def issue_income_certificate(directory: Path, citizen: str, out: str = "c.pdf") -> dict[str, object]:
    """``sanad issue`` of the example income certificate into ``directory / out``; its record."""
    import json

    from tests.conftest import income_certificate

    data = directory / "data.json"
    data.write_text(json.dumps(income_certificate()["data"], ensure_ascii=False), "utf-8")
    code, output = sanad(
        "issue", "--type", "income-certificate", "--citizen", citizen, "--data", str(data), "--out", out
    )
    assert code == 0, output
    record: dict[str, object] = json.loads(output)
    return record
