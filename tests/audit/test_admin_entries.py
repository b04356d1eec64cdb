"""Administration from the shell is recorded: departments, API keys, staff, and a
department's signing keys (enrolled, rotated, revoked). A command that fails records
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app
from audit.entries import parse
from audit.models import AuditEntry
from sanad.db import make_engine, make_session_factory
from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def _log(env: Path) -> list[tuple[str, str, str, dict[str, object]]]:
    engine = make_engine(f"sqlite:///{env / 'sanad.db'}")
    try:
        with make_session_factory(engine)() as s:
            rows = s.execute(select(AuditEntry).order_by(AuditEntry.leaf_index)).scalars().all()
            return [(r.action, r.subject, r.actor, dict(parse(r.entry.encode("utf-8")).details)) for r in rows]
    finally:
        engine.dispose()


def test_departments_keys_and_staff_administration_are_recorded(env: Path) -> None:
    assert sanad("init")[0] == 0
    code, output = sanad("department", "add", "AUD", "--name-en", "Audit", "--name-pa", "ਆਡਿਟ", "--name-hi", "ऑडिट")
    assert code == 0, output
    code, key = sanad("apikey", "create", "--department", "AUD")
    assert code == 0, key
    password = "a long enough password"
    added = CliRunner().invoke(
        app,
        ["staff", "add", "clerk", "--name", "A Clerk", "--role", "officer", "--department", "AUD"],
        input=f"{password}\n{password}\n",
    )
    assert added.exit_code == 0, added.output
    assert sanad("keys", "rotate", "AUD")[0] == 0
    code, output = sanad("keys", "revoke", "AUD", "--reason", "superseded")
    assert code == 0, output

    log = _log(env)
    assert [(action, subject, actor) for action, subject, actor, _ in log] == [
        ("department.add", "department:AUD", "cli"),
        ("apikey.create", "department:AUD", "cli"),
        ("staff.add", "staff:clerk", "cli"),
        ("key.rotate", "department:AUD", "cli"),
        ("key.revoke", "department:AUD", "cli"),
    ]
    assert key.strip().startswith(str(log[1][3]["prefix"]))
    assert log[2][3] == {"role": "officer", "department_id": log[2][3]["department_id"], "office": None}
    assert log[3][3]["key_id"] == log[4][3]["key_id"]
    assert log[4][3]["reason"] == "superseded"


def test_a_refused_command_records_nothing(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("department", "add", "AUD", "--name-en", "A", "--name-pa", "A", "--name-hi", "A")[0] == 0
    assert sanad("department", "add", "AUD", "--name-en", "A", "--name-pa", "A", "--name-hi", "A")[0] != 0
    assert sanad("apikey", "create", "--department", "NONE")[0] != 0
    assert [action for action, *_ in _log(env)] == ["department.add"]
