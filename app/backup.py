"""Backups of a whole deployment, their verification, and restoring one.

A backup is a directory::

    manifest.json        what is inside, with the SHA-256 of every file
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` (or database.sqlite3,
                         the embedded database copied with SQLite's backup API)
    objects/<key>        every object of the store, byte for byte
    pki/<path>           the PKI's public material: certificates, revocations, pki.json
    private-keys.enc     only when asked: the PKI's private keys, tar'd and encrypted
                         (AES-256-GCM, key from scrypt of ``SANAD_BACKUP_PASSPHRASE``)

The database is dumped first and the objects copied after, the order issuing writes
them in reverse: every row in the dump names an object that already existed, so a
restored registry has all its files (objects newer than the dump are merely extra, and
``sanad fsck --fix`` removes them). On PostgreSQL the dump and the manifest's list of
documents come from one snapshot (``pg_export_snapshot``), so they agree exactly.

A restore checks the backup first, refuses a database that is not empty and a key file
that differs from the one on disk, then writes the PKI, the objects and the database last.
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Connection, Engine, make_url, select, text

from issuer.models import Document
from sanad.settings import Settings
from sanad.storage import MinioStore, ObjectStore

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP = "database.pgdump"
SQLITE_COPY = "database.sqlite3"
OBJECTS = "objects"
PKI = "pki"
PRIVATE_KEYS = "private-keys.enc"
PASSPHRASE_ENV = "SANAD_BACKUP_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
MIN_PASSPHRASE = 12
_MAGIC = b"SANAD-KEYS-1"
_CHUNK = 1024 * 1024
#: Objects copied at once: each copy waits mostly on the object store, not on this process.
OBJECT_COPIES = 8


class BackupError(Exception):
    """The backup cannot be made, is not sound, or cannot be restored here; the message
    says what and where."""


@dataclass
class Problems:
    """What ``verify`` found wrong, one sentence each."""

    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def __bool__(self) -> bool:
        return bool(self.items)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_relative(name: str) -> PurePosixPath:
    """A path inside the backup from a manifest or store key: never absolute, never ``..``."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise BackupError(f"refusing a path that leaves the backup: {name!r}")
    return path


# --- private keys ------------------------------------------------------------------------


def _is_private(path: Path) -> bool:
    return path.suffix == ".key" or b"PRIVATE KEY-----" in path.read_bytes()[:4096]


def _passphrase(required: bool) -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV, "")
    if not value:
        if required:
            raise BackupError(f"set {PASSPHRASE_ENV} (at least {MIN_PASSPHRASE} characters) to back up private keys")
        return None
    if len(value) < MIN_PASSPHRASE:
        raise BackupError(f"{PASSPHRASE_ENV} must be at least {MIN_PASSPHRASE} characters")
    return value.encode()


def _key_from(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase)


def _seal(plain: bytes, passphrase: bytes) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    return _MAGIC + salt + nonce + AESGCM(_key_from(passphrase, salt)).encrypt(nonce, plain, _MAGIC)


def _open_sealed(sealed: bytes, passphrase: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag

    if not sealed.startswith(_MAGIC):
        raise BackupError(f"{PRIVATE_KEYS} is not an encrypted key archive")
    body = sealed[len(_MAGIC) :]
    salt, nonce, ciphertext = body[:16], body[16:28], body[28:]
    try:
        return AESGCM(_key_from(passphrase, salt)).decrypt(nonce, ciphertext, _MAGIC)
    except InvalidTag as e:
        raise BackupError(f"{PRIVATE_KEYS} does not open with this {PASSPHRASE_ENV}") from e


def _tar(root: Path, paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return buffer.getvalue()


def _untar(data: bytes) -> dict[str, bytes]:
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                files[str(_safe_relative(member.name))] = extracted.read()
    return files


# --- the database ------------------------------------------------------------------------


def _is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _pg_target(database_url: str) -> tuple[str, dict[str, str], str | None]:
    """libpq URI without the password, the environment carrying it, and the schema the
    URL's ``search_path`` names (a deployment in a schema of a shared database)."""
    url = make_url(database_url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    options = str(url.query.get("options", ""))
    schema = match[1] if (match := re.search(r"search_path=([A-Za-z0-9_]+)", options)) else None
    uri = url.set(drivername="postgresql", password=None, query={}).render_as_string(hide_password=False)
    return uri, env, schema


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _documents(connection: Connection) -> list[dict[str, str]]:
    rows = connection.execute(select(Document.id, Document.storage_key, Document.sha256).order_by(Document.id))
    return [{"id": r.id, "key": r.storage_key, "sha256": r.sha256} for r in rows]


def _dump_postgres(engine: Engine, database_url: str, target: Path) -> list[dict[str, str]]:
    uri, env, schema = _pg_target(database_url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
        command += [f"--schema={schema}"] if schema else []
        _run([*command, f"--file={target}", f"--dbname={uri}"], env)
        return _documents(connection)


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live database (SQLite's online backup), whole or not at all."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _dump_sqlite(database_url: str, target: Path) -> list[dict[str, str]]:
    _copy_sqlite(_sqlite_path(database_url), target)
    from sqlalchemy import create_engine

    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as connection:
            return _documents(connection)
    finally:
        copy.dispose()


def _database_is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        if _is_postgres(engine):
            return connection.scalar(text("SELECT to_regclass('alembic_version')")) is None
        found = connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"))
        return not found


# --- create ------------------------------------------------------------------------------


def create(
    directory: Path, settings: Settings, engine: Engine, store: ObjectStore, *, private_keys: bool = False
) -> dict[str, Any]:
    """Write a backup of the deployment into ``directory`` (new or empty); returns its manifest."""
    passphrase = _passphrase(required=True) if private_keys else None
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new directory")
    directory.mkdir(parents=True, exist_ok=True)

    if _is_postgres(engine):
        database_file = directory / PG_DUMP
        documents = _dump_postgres(engine, settings.database_url, database_file)
    else:
        database_file = directory / SQLITE_COPY
        documents = _dump_sqlite(settings.database_url, database_file)

    def copy_out(key: str) -> dict[str, Any]:
        path = directory / OBJECTS / _safe_relative(key)
        data = store.get(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return {"key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    with ThreadPoolExecutor(OBJECT_COPIES) as pool:
        objects = sorted(pool.map(copy_out, (info.key for info in store.list())), key=lambda o: str(o["key"]))

    keys_dir = settings.keys_dir
    public: list[Path] = []
    private: list[Path] = []
    for path in sorted(p for p in keys_dir.rglob("*") if p.is_file()) if keys_dir.exists() else []:
        (private if _is_private(path) else public).append(path)
    pki = []
    for path in public:
        name = path.relative_to(keys_dir).as_posix()
        copy = directory / PKI / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        pki.append({"path": name, "sha256": _sha256_file(copy)})
    sealed = None
    if passphrase is not None:
        (directory / PRIVATE_KEYS).write_bytes(_seal(_tar(keys_dir, private), passphrase))
        sealed = {"file": PRIVATE_KEYS, "sha256": _sha256_file(directory / PRIVATE_KEYS), "count": len(private)}

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {
            "engine": engine.dialect.name,
            "file": database_file.name,
            "sha256": _sha256_file(database_file),
        },
        "objects": objects,
        "documents": documents,
        "pki": pki,
        "private_keys": sealed,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return manifest


# --- verify ------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text("utf-8"))
    except FileNotFoundError as e:
        raise BackupError(f"{directory} holds no {MANIFEST}: not a Sanad backup") from e
    except ValueError as e:
        raise BackupError(f"{directory / MANIFEST} is not valid JSON: {e}") from e
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{directory / MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT}")
    return manifest


def _check_file(problems: Problems, path: Path, sha256: str, what: str) -> None:
    if not path.is_file():
        problems.add(f"{what} is missing ({path})")
    elif _sha256_file(path) != sha256:
        problems.add(f"{what} does not match its checksum ({path})")


def _files_under(root: Path) -> Iterator[str]:
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                yield path.relative_to(root).as_posix()


def verify(directory: Path) -> Problems:
    """Every file against its checksum, no file the manifest does not list, every
    document's object present with the registry's SHA-256, and (with the passphrase set)
    the private keys opening."""
    manifest = read_manifest(directory)
    problems = Problems()
    database = manifest["database"]
    _check_file(problems, directory / _safe_relative(database["file"]), database["sha256"], "the database dump")

    by_key = {}
    for entry in manifest["objects"]:
        by_key[entry["key"]] = entry
        _check_file(problems, directory / OBJECTS / _safe_relative(entry["key"]), entry["sha256"], entry["key"])
    for extra in set(_files_under(directory / OBJECTS)) - set(by_key):
        problems.add(f"objects/{extra} is not in the manifest")
    for document in manifest["documents"]:
        stored = by_key.get(document["key"])
        if stored is None:
            problems.add(f"document {document['id']}: its file {document['key']} is not in the backup")
        elif stored["sha256"] != document["sha256"]:
            problems.add(f"document {document['id']}: its file differs from the registry's SHA-256")

    listed = {entry["path"] for entry in manifest["pki"]}
    for entry in manifest["pki"]:
        _check_file(problems, directory / PKI / _safe_relative(entry["path"]), entry["sha256"], f"pki/{entry['path']}")
    for extra in set(_files_under(directory / PKI)) - listed:
        problems.add(f"pki/{extra} is not in the manifest")

    sealed = manifest.get("private_keys")
    if sealed:
        path = directory / _safe_relative(sealed["file"])
        _check_file(problems, path, sealed["sha256"], "the private keys")
        passphrase = _passphrase(required=False)
        if passphrase is not None and path.is_file() and not problems:
            try:
                _untar(_open_sealed(path.read_bytes(), passphrase))
            except BackupError as e:
                problems.add(str(e))
    return problems


# --- restore -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    objects: int
    documents: int
    pki_files: int
    private_keys: int | None
    """Key files written; None when the backup has some but no passphrase was given."""


def _planned_key_files(manifest: dict[str, Any], directory: Path) -> tuple[dict[str, bytes], int | None]:
    files = {entry["path"]: (directory / PKI / entry["path"]).read_bytes() for entry in manifest["pki"]}
    sealed = manifest.get("private_keys")
    if not sealed:
        return files, 0
    passphrase = _passphrase(required=False)
    if passphrase is None:
        return files, None
    private = _untar(_open_sealed((directory / sealed["file"]).read_bytes(), passphrase))
    return {**files, **private}, len(private)


def restore(directory: Path, settings: Settings, engine: Engine, store: ObjectStore) -> Restored:
    """Restore the backup into the deployment ``settings`` names, whose database is empty."""
    problems = verify(directory)
    if problems:
        raise BackupError("the backup is not sound: " + "; ".join(problems.items))
    manifest = read_manifest(directory)
    engine_name = manifest["database"]["engine"]
    if engine_name != engine.dialect.name:
        raise BackupError(f"the backup holds a {engine_name} database; this deployment uses {engine.dialect.name}")
    if not _database_is_empty(engine):
        raise BackupError("the database is not empty: restore into a new database (or drop this one first)")
    key_files, private_count = _planned_key_files(manifest, directory)
    keys_dir = settings.keys_dir
    for relative, data in key_files.items():
        existing = keys_dir / _safe_relative(relative)
        if existing.is_file() and existing.read_bytes() != data:
            raise BackupError(f"{existing} differs from the backup's; move the keys directory aside first")

    for relative, data in key_files.items():
        path = keys_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(data)
            if path.suffix == ".key" or b"PRIVATE KEY-----" in data[:4096]:
                path.chmod(0o600)

    if isinstance(store, MinioStore):
        store.ensure_bucket()

    def copy_in(key: str) -> None:
        data = (directory / OBJECTS / _safe_relative(key)).read_bytes()
        store.put(key, data, mimetypes.guess_type(key)[0] or "application/octet-stream")

    with ThreadPoolExecutor(OBJECT_COPIES) as pool:
        list(pool.map(copy_in, (entry["key"] for entry in manifest["objects"])))

    database_file = directory / manifest["database"]["file"]
    if _is_postgres(engine):
        uri, env, _ = _pg_target(settings.database_url)
        # --clean --if-exists: an empty schema of the same name may already be there.
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--clean", "--if-exists"]
        _run([*command, f"--dbname={uri}", str(database_file)], env)
    else:
        engine.dispose()  # no pooled connection may hold the file being replaced
        _copy_sqlite(database_file, _sqlite_path(settings.database_url))
    return Restored(len(manifest["objects"]), len(manifest["documents"]), len(manifest["pki"]), private_count)
