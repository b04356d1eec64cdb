"""A whole deployment for fault drills, as compose runs it: ``sanad serve`` (two server
processes) and one ``sanad worker``, on a PostgreSQL cluster and a MinIO of their own
(each drill stops or starves one of them), signing B-LTA with the development PKI's TSA
reached through a relay the drill can unplug.

MinIO keeps its data on a small tmpfs when the suite runs as root, so a drill can fill
its disk; elsewhere mounting one is not allowed and that drill is skipped."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select

from sanad.models import DevMessage
from tests.conftest import REPO
from tests.issuer.batches_helpers import documents_per_key
from tests.ops.relay import Relay
from tests.private_services import MINIO_PASSWORD, MINIO_USER, Cluster, PrivateMinio, private_cluster
from trust.local import free_port

SANAD = str(Path(sys.executable).parent / "sanad")
DISK_MB = 64
WORKER_JOBS = 2
"""Jobs the drill's worker runs at once."""


@dataclass
class Site:
    cluster: Cluster
    minio: PrivateMinio
    tsa: Relay
    env: dict[str, str]
    base: str
    logs: Path
    disk: Path | None
    """MinIO's own filesystem (a tmpfs), when the drill could mount one."""
    engine: Engine
    api_key: str
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        with (self.logs / "worker.log").open("ab") as out:
            self.worker = subprocess.Popen(
                [SANAD, "worker", "--concurrency", str(WORKER_JOBS)],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def server_processes(self) -> list[int]:
        """The processes serving requests under ``sanad serve``'s supervisor."""
        assert self.server is not None
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
        return [
            int(pid)
            for pid in children
            if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        ]

    def sanad(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """A ``sanad`` command against the site, as an operator runs it."""
        return subprocess.run(
            [SANAD, *arguments], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=180, check=False
        )

    def documents_per_key(self, prefix: str) -> dict[str, int]:
        with self.engine.connect() as connection:
            return documents_per_key(connection, prefix)

    def latest_code(self, mobile: str) -> str:
        with self.engine.connect() as connection:
            body = connection.scalar(
                select(DevMessage.body).where(DevMessage.recipient == mobile).order_by(DevMessage.id.desc()).limit(1)
            )
        match = re.match(r"(\d{6}) ", body or "")
        assert match, body
        return match.group(1)

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.iterdir()))


def deployment_env(cluster: Cluster, minio: PrivateMinio, keys: Path, port: int) -> dict[str, str]:
    """The environment of every ``sanad`` process of a deployment on these servers,
    serving on ``port`` (the development PKI's TSA and CRLs included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANAD_", "PROMETHEUS_"))}
    return env | {
        "SANAD_ENV": "test",
        "SANAD_DATABASE_URL": cluster.url("sanad_drill"),
        "SANAD_STORAGE_BACKEND": "minio",
        "SANAD_MINIO_ENDPOINT": minio.endpoint,
        "SANAD_MINIO_ACCESS_KEY": MINIO_USER,
        "SANAD_MINIO_SECRET_KEY": MINIO_PASSWORD,
        "SANAD_MINIO_BUCKET": "drill",
        "SANAD_KEYS_DIR": str(keys),
        "SANAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SANAD_NOTIFY_CHANNEL": "log",
    }


def _mount_small_disk(path: Path) -> bool:
    path.mkdir(parents=True)
    if os.geteuid() != 0:
        return False
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(path)], capture_output=True, check=False
    )
    return mounted.returncode == 0


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    pytest.fail("the server did not answer within 120 s: " + log.read_text()[-3000:])


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def running_site(home: Path) -> Iterator[Site]:
    logs = home / "logs"
    logs.mkdir(parents=True)
    disk_path = home / "disk"
    disk = disk_path if _mount_small_disk(disk_path) else None
    site: Site | None = None
    try:
        with private_cluster("sanad_drill") as cluster:
            minio = PrivateMinio(data=disk_path / "data", log=logs / "minio.log")
            minio.start()
            port = free_port()
            tsa = Relay(port)
            tsa.up()
            env = deployment_env(cluster, minio, home / "keys", port) | {
                "SANAD_TSA_URL": f"http://127.0.0.1:{tsa.port}/pki/tsa"
            }
            engine = create_engine(cluster.url("sanad_drill"), pool_pre_ping=True)
            site = Site(cluster, minio, tsa, env, f"http://127.0.0.1:{port}", logs, disk, engine, api_key="")
            for command in (
                ["init"],
                ["department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व"],
            ):
                done = site.sanad(*command)
                assert done.returncode == 0, done.stdout + done.stderr
            created = site.sanad("apikey", "create", "--department", "REV")
            assert created.returncode == 0, created.stderr
            site.api_key = created.stdout.strip().splitlines()[-1]
            with (logs / "server.log").open("ab") as out:
                site.server = subprocess.Popen(
                    [SANAD, "serve", "--port", str(port), "--workers", "2"],
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            wait_until_healthy(site.base, site.server, logs / "server.log")
            site.start_worker()
            try:
                yield site
            finally:
                stop(site.worker)
                stop(site.server)
                tsa.down()
                minio.stop()
                engine.dispose()
    finally:
        if disk is not None:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
