"""A log of its own for tests that tamper with it: a new, empty database per test (SQLite,
or a schema of its own on the test PostgreSQL), migrated, with the test PKI's notary."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import audit
from app.audit_notary import PkiNotary
from app.migrate import upgrade
from audit.checkpoints import make_checkpoint
from audit.models import AuditCheckpoint
from sanad.db import make_engine, make_session_factory
from tests.conftest import BACKENDS, _drop_postgres_schema, _fresh_postgres_schema, _services_env

ORIGIN = "http://sanad.test/audit"


@dataclass
class FreshLog:
    backend: str
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    notary: PkiNotary
    keys_dir: Path

    def append(self, count: int, *, subject: str = "test:seed") -> None:
        """``count`` entries, one transaction each."""
        for n in range(count):
            with self.sessions.begin() as s:
                audit.record(s, action="test.seed", subject=subject, actor="staff:tester", details={"n": n})

    def checkpoint(self) -> AuditCheckpoint:
        with self.sessions.begin() as s:
            return make_checkpoint(s, self.notary, origin=ORIGIN)

    def sql(self, statement: str, **parameters: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(statement), parameters)

    def tamper(self, statement: str, **parameters: object) -> None:
        """Run ``statement`` as someone with full access to the database would: first
        removing the triggers that keep the log append-only."""
        with self.engine.begin() as connection:
            for table in ("audit_entries", "audit_checkpoints"):
                if self.backend == "embedded":
                    for change in ("update", "delete"):
                        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{change}"))
                else:
                    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            connection.execute(text(statement), parameters)


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path, keys_dir: Path) -> Iterator[FreshLog]:
    schema = admin_url = None
    if request.param == "embedded":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        env = _services_env()
        if env is None:
            pytest.skip("PostgreSQL is not running (scripts/services.sh start)")
        admin_url = env["DATABASE_URL"]
        schema, url = _fresh_postgres_schema(admin_url)
    engine = make_engine(url)
    upgrade(engine)
    yield FreshLog(request.param, url, engine, make_session_factory(engine), PkiNotary(keys_dir), keys_dir)
    engine.dispose()
    if admin_url is not None and schema is not None:
        _drop_postgres_schema(admin_url, schema)


@pytest.fixture
def cli_env(fresh: FreshLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FreshLog:
    """``sanad`` commands of this test run against ``fresh``."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SANAD_") and not name.startswith("SANAD_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE_URL", fresh.url)
    monkeypatch.setenv("SANAD_STORAGE_PATH", str(tmp_path / "objects"))
    monkeypatch.setenv("SANAD_KEYS_DIR", str(fresh.keys_dir))
    monkeypatch.setenv("SANAD_PUBLIC_BASE_URL", f"http://sanad-{secrets.token_hex(3)}.test")
    return fresh
