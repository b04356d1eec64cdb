"""A throw-away deployment for one benchmark run: database, object store and PKI.

``postgres-minio`` creates a database ``sanad_bench_<random>`` on the test PostgreSQL
and a bucket ``sanad-bench-<random>`` on the test MinIO (``scripts/services.sh``,
started if needed); ``embedded`` uses SQLite and a directory. Both are set up with
``sanad init`` and ``sanad demo-seed`` exactly as an operator would, and removed
afterwards.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from minio.deleteobjects import DeleteObject
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import cpu
from bench.machine import REPO
from sanad.settings import Settings
from sanad.storage import MinioStore
from trust.local import free_port, responder_running
from trust.paths import base_url

BACKENDS = ("postgres-minio", "embedded")
SERVICES = REPO / "scripts" / "services.sh"
SANAD = Path(sys.executable).parent / "sanad"
_API_KEY = re.compile(r"\bsk_[a-z0-9]+_[A-Za-z0-9_-]+")


def development_pki(env: dict[str, str]) -> AbstractContextManager[None]:
    """Serve the development PKI (TSA, CRLs, OCSP) of the deployment's keys directory at
    the address its certificates name, unless something answers there already, for as
    long as the block runs."""
    keys = Path(env["SANAD_KEYS_DIR"])
    return responder_running(keys, base_url(keys))


@dataclass(frozen=True)
class Deployment:
    """Where a run's server and in-process stages keep their data."""

    backend: str
    env: dict[str, str]
    """The ``SANAD_*`` variables the server and the CLI run with."""
    workdir: Path
    """Working directory of every subprocess (keeps a developer's ``.env`` out)."""
    api_key: str
    """A key of the demo department ``REV``."""
    service_pids: dict[str, int]
    """Processes of the database and object store, for CPU accounting."""

    def settings(self) -> Settings:
        fields = {name.removeprefix("SANAD_").lower(): value for name, value in self.env.items()}
        return Settings.model_validate(fields)  # only these values: no environment, no .env

    def run_cli(self, *args: str) -> str:
        return run_sanad(self.env, self.workdir, *args)


def subprocess_env(sanad_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_")}
    return {**env, **sanad_env}


def run_sanad(sanad_env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [str(SANAD), *args], cwd=cwd, env=subprocess_env(sanad_env), capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"sanad {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def _printed_services_env() -> dict[str, str]:
    printed = subprocess.run(["bash", str(SERVICES), "env"], capture_output=True, text=True, timeout=60, check=True)
    found = dict(re.findall(r"^export (\w+)=(.*)$", printed.stdout, flags=re.MULTILINE))
    return {name.removeprefix("SANAD_TEST_"): value for name, value in found.items()}


def _reachable(services: dict[str, str]) -> bool:
    """Whether PostgreSQL and MinIO answer at the addresses ``services.sh env`` prints
    (possibly started from another checkout, which uses the same ports and credentials)."""
    engine = create_engine(services["DATABASE_URL"], connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        store = MinioStore.connect(
            services["MINIO_ENDPOINT"], services["MINIO_ACCESS_KEY"], services["MINIO_SECRET_KEY"], "sanad-bench-probe"
        )
        store.client.list_buckets()
    except Exception:
        return False
    finally:
        engine.dispose()
    return True


def _services_env() -> dict[str, str]:
    services = _printed_services_env()
    if not _reachable(services):
        print("bench: starting PostgreSQL and MinIO (scripts/services.sh start)", file=sys.stderr)
        subprocess.run(["bash", str(SERVICES), "start"], check=True, timeout=600)
    return services


def _service_pids(services: dict[str, str]) -> dict[str, int]:
    ports = {
        "PostgreSQL": make_url(services["DATABASE_URL"]).port or 5432,
        "MinIO": int(services["MINIO_ENDPOINT"].rsplit(":", 1)[1]),
    }
    pids = {name: cpu.listener_pid(port) for name, port in ports.items()}
    return {name: pid for name, pid in pids.items() if pid is not None}


@contextmanager
def _postgres_database(admin_url: str, name: str, *, kept: bool = False) -> Iterator[str]:
    """A database for the run: a new one dropped afterwards, or (``kept``) an existing one
    such as a seeded 10M-document registry, created only if absent and left in place."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not (kept and exists):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not kept:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def deployment_store(env: dict[str, str]) -> MinioStore:
    """The MinIO bucket the deployment's ``SANAD_MINIO_*`` variables name."""
    names = ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "BUCKET")
    return MinioStore.connect(*(env[f"SANAD_MINIO_{name}"] for name in names))


REMOVALS_MARK = REPO / "var" / "bench" / "objects-removed-at"
"""When a bench last removed objects from MinIO (seconds since the epoch): the next run
waits for the file system to forget them (:func:`bench.cpu.wait_until_minio_idle`)."""


def remove_objects(store: MinioStore, keys: Iterable[str]) -> None:
    """Remove ``keys`` from the store's bucket, up to 1,000 a request: one at a time, a
    150,000-document run took ~5 minutes to clean up."""
    listed = (DeleteObject(key) for key in keys)
    try:
        if failed := list(store.client.remove_objects(store.bucket, listed)):
            raise RuntimeError(f"could not remove {len(failed)} objects of {store.bucket}, e.g. {failed[0]}")
    finally:
        REMOVALS_MARK.parent.mkdir(parents=True, exist_ok=True)
        REMOVALS_MARK.write_text(f"{time.time():.0f}\n")


def objects_removed_at() -> float | None:
    """When a bench last removed objects (:data:`REMOVALS_MARK`), if one ever did."""
    try:
        return float(REMOVALS_MARK.read_text())
    except (OSError, ValueError):
        return None


def remove_bucket(env: dict[str, str]) -> None:
    """Remove the deployment's bucket and everything in it, if it exists."""
    store = deployment_store(env)
    if not store.client.bucket_exists(store.bucket):
        return
    remove_objects(store, (info.key for info in store.list()))
    store.client.remove_bucket(store.bucket)


@contextmanager
def deploy(backend: str, *, database: str | None = None) -> Iterator[Deployment]:
    """Create a fresh deployment of ``backend``, seeded with the demo department; on
    PostgreSQL in the existing ``database`` (kept afterwards) if one is named."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    run_id = secrets.token_hex(4)
    workdir = Path(tempfile.mkdtemp(prefix=f"sanad-bench-{run_id}-"))
    env = {
        "SANAD_ENV": "test",
        "SANAD_KEYS_DIR": str(workdir / "keys"),
        # A port of its own: the development PKI's CRLs are served where its certificates
        # say, and another run's PKI answering on a shared port would be the wrong CA.
        "SANAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    try:
        if backend == "embedded":
            env |= {
                "SANAD_DATABASE_URL": f"sqlite:///{workdir / 'sanad.db'}",
                "SANAD_STORAGE_BACKEND": "filesystem",
                "SANAD_STORAGE_PATH": str(workdir / "objects"),
            }
            yield _seeded(backend, env, workdir, {})
            return
        services = _services_env()
        name = database or f"sanad_bench_{run_id}"
        with _postgres_database(services["DATABASE_URL"], name, kept=database is not None) as database_url:
            env |= {
                "SANAD_DATABASE_URL": database_url,
                "SANAD_STORAGE_BACKEND": "minio",
                "SANAD_MINIO_ENDPOINT": services["MINIO_ENDPOINT"],
                "SANAD_MINIO_ACCESS_KEY": services["MINIO_ACCESS_KEY"],
                "SANAD_MINIO_SECRET_KEY": services["MINIO_SECRET_KEY"],
                "SANAD_MINIO_BUCKET": f"sanad-bench-{run_id}",
            }
            try:
                yield _seeded(backend, env, workdir, _service_pids(services))
            finally:
                remove_bucket(env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _seeded(backend: str, env: dict[str, str], workdir: Path, pids: dict[str, int]) -> Deployment:
    run_sanad(env, workdir, "init")
    found = _API_KEY.search(run_sanad(env, workdir, "demo-seed"))
    if found is None:
        raise RuntimeError("sanad demo-seed printed no API key")
    return Deployment(backend, env, workdir, found.group(0), pids)
