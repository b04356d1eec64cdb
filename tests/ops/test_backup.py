"""Backup and restore: the drill on both backends (issue, back up, wipe, restore; every
document downloads and verifies), and a backup that is not sound is caught."""

from __future__ import annotations

import hashlib
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import backup
from app.context import AppContext
from app.factory import create_app
from app.migrate import upgrade
from audit.verification import verify_log
from issuer.service import find_orphans
from sanad.db import make_engine
from sanad.settings import Settings
from sanad.storage import FilesystemStore, MinioStore, ObjectStore
from tests.conftest import (
    Backend,
    _drop_postgres_schema,
    _fresh_postgres_schema,
    client_address,
    create_department,
    income_certificate,
)

PASSPHRASE = "correct horse battery staple"


@dataclass
class Deployment:
    """A deployment of its own for one drill, of the same kind as the backend."""

    settings: Settings
    store: ObjectStore
    admin_url: str | None = None
    schema: str | None = None


def _new_deployment(backend: Backend, root: Path) -> Deployment:
    if backend.name == "embedded":
        settings = backend.settings.model_copy(
            update={"database_url": f"sqlite:///{root / 'sanad.db'}", "storage_path": root / "objects"}
        )
        return Deployment(settings, FilesystemStore(settings.storage_path))
    admin_url = str(backend.settings.database_url).split("?")[0]
    schema, url = _fresh_postgres_schema(admin_url)
    settings = backend.settings.model_copy(
        update={"database_url": url, "minio_bucket": f"sanad-drill-{secrets.token_hex(4)}"}
    )
    store = MinioStore.connect(
        settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key, settings.minio_bucket
    )
    store.ensure_bucket()
    return Deployment(settings, store, admin_url, schema)


def _wipe(deployment: Deployment) -> None:
    """Everything the deployment stored is gone: its database and its objects."""
    store = deployment.store
    if isinstance(store, MinioStore):
        for info in store.list():
            store.delete(info.key)
        store.client.remove_bucket(store.bucket)
    else:
        shutil.rmtree(deployment.settings.storage_path)
    if deployment.schema is not None and deployment.admin_url is not None:
        _drop_postgres_schema(deployment.admin_url, deployment.schema)
    else:
        Path(str(deployment.settings.database_url).removeprefix("sqlite:///")).unlink()


def _context(backend: Backend, settings: Settings, store: ObjectStore) -> AppContext:
    return AppContext.assemble(
        settings, make_engine(settings.database_url), store, backend.context.kit.templates, backend.context.kit.renderer
    )


@pytest.fixture
def drill(backend: Backend, tmp_path: Path) -> Iterator[Deployment]:
    deployment = _new_deployment(backend, tmp_path / "deployment")
    engine = make_engine(deployment.settings.database_url)
    upgrade(engine)
    engine.dispose()
    yield deployment
    store = deployment.store
    if isinstance(store, MinioStore) and store.client.bucket_exists(store.bucket):
        for info in store.list():
            store.delete(info.key)
        store.client.remove_bucket(store.bucket)
    if deployment.schema is not None and deployment.admin_url is not None:
        engine = make_engine(deployment.admin_url)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{deployment.schema}" CASCADE'))
        engine.dispose()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_restore_drill_every_document_downloads_and_verifies(
    backend: Backend, drill: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(backup.PASSPHRASE_ENV, PASSPHRASE)
    context = _context(backend, drill.settings, drill.store)
    with TestClient(create_app(context=context), client=client_address()) as client:
        dept = create_department(Backend(backend.name, drill.settings, context.engine, drill.store, context))
        issued = []
        for _ in range(3):
            answer = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
            assert answer.status_code == 201, answer.text
            issued.append(answer.json())
        revoked = client.post(
            f"/api/v1/documents/{issued[0]['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers
        )
        assert revoked.status_code == 200, revoked.text
    engine = context.engine

    manifest = backup.create(tmp_path / "backup", drill.settings, engine, drill.store, private_keys=True)
    engine.dispose()
    assert len(manifest["documents"]) == 3
    assert not backup.verify(tmp_path / "backup")

    _wipe(drill)
    restored_keys = tmp_path / "restored-keys"
    settings = drill.settings.model_copy(update={"keys_dir": restored_keys})
    store = drill.store
    if isinstance(store, FilesystemStore):
        store = FilesystemStore(settings.storage_path)
    restore_engine = make_engine(settings.database_url)
    result = backup.restore(tmp_path / "backup", settings, restore_engine, store)
    restore_engine.dispose()

    assert result.documents == 3
    assert result.private_keys is not None
    assert result.private_keys > 0
    assert _files(restored_keys) == _files(drill.settings.keys_dir)
    restored = _context(backend, settings, store)
    with TestClient(create_app(context=restored), client=client_address()) as client:
        for document in issued:
            content = client.get(f"/api/v1/documents/{document['id']}/content", headers=dept.headers)
            assert content.status_code == 200
            assert hashlib.sha256(content.content).hexdigest() == document["sha256"]
            verdict = client.post("/api/v1/verify", files={"file": ("c.pdf", content.content, "application/pdf")})
            expected = "TOTAL_FAILED" if document is issued[0] else "TOTAL_PASSED"
            assert verdict.json()["indication"] == expected, verdict.json()
        # The department's API key, the registry and the signing keys all came back: it issues again.
        again = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
        assert again.status_code == 201, again.text
    with restored.sessions() as session:
        assert find_orphans(session, store) == []
        audit = verify_log(session, restored.audit_notary)
    assert audit.intact, audit.findings
    assert audit.entries > 0  # the issues and the revocation were recorded, and came back
    restored.close()


@pytest.fixture
def small_backup(backend: Backend, drill: Deployment, tmp_path: Path) -> Path:
    context = _context(backend, drill.settings, drill.store)
    with TestClient(create_app(context=context), client=client_address()) as client:
        dept = create_department(Backend(backend.name, drill.settings, context.engine, drill.store, context))
        answer = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
        assert answer.status_code == 201
    backup.create(tmp_path / "backup", drill.settings, context.engine, drill.store)
    context.close()
    return tmp_path / "backup"


def test_without_private_keys_no_private_key_leaves(small_backup: Path) -> None:
    manifest = backup.read_manifest(small_backup)

    assert manifest["private_keys"] is None
    assert not (small_backup / backup.PRIVATE_KEYS).exists()
    assert all(b"PRIVATE KEY" not in data for data in _files(small_backup / backup.PKI).values())
    assert not any(name.endswith(".key") for name in _files(small_backup / backup.PKI))


def test_a_changed_missing_or_extra_file_is_found(small_backup: Path) -> None:
    manifest = backup.read_manifest(small_backup)
    document_key = manifest["documents"][0]["key"]
    changed = small_backup / backup.OBJECTS / document_key
    changed.write_bytes(changed.read_bytes()[:-1] + b"X")
    pki_file = small_backup / backup.PKI / manifest["pki"][0]["path"]
    pki_file.unlink()
    (small_backup / backup.OBJECTS / "stray.bin").write_bytes(b"not mine")

    problems = backup.verify(small_backup).items

    assert any(document_key in p and "checksum" in p for p in problems)
    assert any(manifest["pki"][0]["path"] in p and "missing" in p for p in problems)
    assert any("stray.bin" in p for p in problems)


def test_an_object_that_no_longer_matches_the_registry_is_found(
    backend: Backend, drill: Deployment, tmp_path: Path
) -> None:
    context = _context(backend, drill.settings, drill.store)
    with TestClient(create_app(context=context), client=client_address()) as client:
        dept = create_department(Backend(backend.name, drill.settings, context.engine, drill.store, context))
        client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
    (info,) = [i for i in drill.store.list() if i.key.startswith("citizens/")]
    drill.store.put(info.key, drill.store.get(info.key) + b"%", "application/pdf")  # rotted in the store

    backup.create(tmp_path / "rotten", drill.settings, context.engine, drill.store)
    context.close()

    problems = backup.verify(tmp_path / "rotten").items
    assert len(problems) == 1
    assert "its file differs from the registry's SHA-256" in problems[0]


def test_a_backup_that_is_not_sound_is_not_restored(backend: Backend, small_backup: Path) -> None:
    database = small_backup / backup.read_manifest(small_backup)["database"]["file"]
    database.write_bytes(database.read_bytes() + b"\0")

    with pytest.raises(backup.BackupError, match="not sound"):
        backup.restore(small_backup, backend.settings, backend.engine, backend.store)


def test_restore_refuses_a_database_that_is_not_empty(backend: Backend, small_backup: Path) -> None:
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(small_backup, backend.settings, backend.engine, backend.store)


def test_restore_refuses_a_key_file_that_differs(
    backend: Backend, drill: Deployment, small_backup: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "other-keys"
    name = backup.read_manifest(small_backup)["pki"][0]["path"]
    (keys / name).parent.mkdir(parents=True)
    (keys / name).write_text("someone else's certificate")
    _wipe(drill)
    settings = drill.settings.model_copy(update={"keys_dir": keys})
    engine = make_engine(settings.database_url)

    with pytest.raises(backup.BackupError, match="differs from the backup"):
        backup.restore(small_backup, settings, engine, drill.store)
    engine.dispose()


def test_private_keys_need_a_passphrase_and_open_only_with_it(
    backend: Backend, drill: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(drill.settings.database_url)
    monkeypatch.delenv(backup.PASSPHRASE_ENV, raising=False)
    with pytest.raises(backup.BackupError, match=backup.PASSPHRASE_ENV):
        backup.create(tmp_path / "b1", drill.settings, engine, drill.store, private_keys=True)
    monkeypatch.setenv(backup.PASSPHRASE_ENV, "short")
    with pytest.raises(backup.BackupError, match="at least 12"):
        backup.create(tmp_path / "b2", drill.settings, engine, drill.store, private_keys=True)

    monkeypatch.setenv(backup.PASSPHRASE_ENV, PASSPHRASE)
    backup.create(tmp_path / "b3", drill.settings, engine, drill.store, private_keys=True)
    engine.dispose()
    sealed = (tmp_path / "b3" / backup.PRIVATE_KEYS).read_bytes()
    assert b"PRIVATE KEY" not in sealed
    assert not backup.verify(tmp_path / "b3")

    monkeypatch.setenv(backup.PASSPHRASE_ENV, PASSPHRASE + " but wrong")
    assert any("does not open" in p for p in backup.verify(tmp_path / "b3").items)


def test_a_backup_goes_into_a_new_directory(backend: Backend, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "something").write_text("x")

    with pytest.raises(backup.BackupError, match="not empty"):
        backup.create(tmp_path / "used", backend.settings, backend.engine, backend.store)
