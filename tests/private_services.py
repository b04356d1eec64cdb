"""PostgreSQL and MinIO servers of a test's own, for drills that stop, restart or starve
them: the suite's servers are shared by every other test and must stay up.

Each runs on 127.0.0.1 on a free port with its files in a temporary directory, and is
stopped and removed afterwards whatever happened."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REPO
from trust.local import answers, free_port

MINIO_USER = "drill"
MINIO_PASSWORD = "drill-secret"


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _as_owner() -> list[str]:
    # PostgreSQL refuses to run as root: as root, the server runs as `postgres`.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class Cluster:
    """A throw-away PostgreSQL server on 127.0.0.1:``port``."""

    bin: Path
    home: Path
    port: int

    @property
    def data(self) -> Path:
        return self.home / "data"

    def run_as_owner(self, *command: str) -> None:
        subprocess.run([*_as_owner(), *command], check=True, capture_output=True, timeout=120, cwd="/")

    def pg_ctl(self, *arguments: str) -> None:
        self.run_as_owner(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.home / "server.log"), *arguments
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home} -c fsync=off -c max_connections=60"
        self.pg_ctl("-w", "-t", "60", "-o", options, "start")

    def stop(self) -> None:
        """Stopped ``-m fast``: every session is cut off."""
        self.pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@contextmanager
def private_cluster(database: str) -> Iterator[Cluster]:
    """A running cluster holding an empty ``database``."""
    found = _postgres_bin()
    if found is None:
        pytest.fail("no PostgreSQL server binaries (scripts/setup.sh test installs them)")
    home = Path(tempfile.mkdtemp(prefix="sanad-pg-drill-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    server = Cluster(found, home, free_port())
    try:
        server.run_as_owner(
            str(found / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust", "--no-sync"
        )
        server.start()
        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        yield server
    finally:
        # Immediately: nothing here is worth a checkpoint.
        subprocess.run(
            [*_as_owner(), str(found / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            cwd="/",
        )
        shutil.rmtree(home, ignore_errors=True)


def minio_binary() -> str:
    found = subprocess.run(["bash", str(REPO / "scripts" / "minio.sh"), "path"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail("no MinIO build (scripts/setup.sh test builds it)")
    return found.stdout.strip()


def serve_minio(binary: str, data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """MinIO serving ``data`` on 127.0.0.1:``port`` (user ``drill``), once it answers."""
    env = {**os.environ, "MINIO_ROOT_USER": MINIO_USER, "MINIO_ROOT_PASSWORD": MINIO_PASSWORD, "MINIO_UPDATE": "off"}
    address, console = f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [binary, "server", str(data), "--address", address, "--console-address", console],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not answers(f"http://{address}/minio/health/live"):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return server


@dataclass
class PrivateMinio:
    """A MinIO that a drill may stop and start again on the same port and data."""

    data: Path
    log: Path
    binary: str = field(default_factory=minio_binary)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = serve_minio(self.binary, self.data, self.port, self.log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
