"""The service runs on a read-only root filesystem, as compose.yaml runs its containers
(``read_only: true``, a tmpfs at each ``tmpfs`` path, and the keys volume).

There is no Docker here, so the test makes the same filesystem for real processes: in a
mount namespace of their own, the root filesystem (the source tree and the virtualenv
included) is remounted read-only, a tmpfs is mounted at each path compose lists, and
only the keys directory (the volume) stays writable. In it ``sanad init``, ``sanad
department add``, ``sanad serve`` (two processes) and ``sanad worker`` run, with HOME at
the read-only source tree (the image's home), and a document is issued, given its
long-term revision by the worker, downloaded and verified. Any write elsewhere fails
with EROFS and fails the test."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, Backend, income_certificate
from tests.ops.drill_site import SANAD, deployment_env, stop, wait_until_healthy
from tests.ops.test_compose import compose
from tests.private_services import PrivateMinio, private_cluster
from trust.local import free_port

READ_ONLY_REFUSED = 97
"""Exit status of the namespace's set-up when the root could still be written."""


def _writable_paths() -> list[str]:
    """The tmpfs paths compose gives the service (test_compose.py checks that every
    container of it has the same, and the keys volume as its only other writable path)."""
    return list(compose({})["services"]["api"]["tmpfs"])


def _namespace_prefix() -> list[str]:
    """``unshare`` for a mount namespace: as root directly, otherwise in a user namespace
    of its own where that is allowed."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to make a read-only root")
    # A PID namespace too: when the server (its first process) stops, the worker stops
    # with it, as a container's processes do.
    prefix = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child=SIGTERM"]
    if os.geteuid() != 0:
        prefix.insert(1, "--map-root-user")
    probe = subprocess.run([*prefix, "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("mount namespaces are not allowed here: " + probe.stderr.decode(errors="replace"))
    return prefix


def _stop_namespace(process: subprocess.Popen[bytes]) -> None:
    """Stop the server as a container is stopped: SIGTERM to its first process (unshare
    itself holds SIGTERM while it waits); the worker then goes with the PID namespace."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    first = children.read_text().split() if children.exists() else []
    for pid in first:
        os.kill(int(pid), signal.SIGTERM)
    stop(process)


def _script(volume: Path, tmpfs: list[str], port: int, staging: Path) -> str:
    """Mount the container's filesystem, prove the root is read-only, then run what the
    image's command runs, plus a worker.

    The image keeps its code in /app; a checkout under a tmpfs path (a clone in /tmp)
    would be hidden by that tmpfs, so it is bound to ``staging`` first and back over the
    empty tmpfs directory afterwards, read-only like the rest."""
    q = shlex.quote
    repo, kept = q(str(REPO)), q(str(staging))
    hidden = any(REPO.is_relative_to(path) for path in tmpfs)
    steps = [
        f"mount --bind {q(str(volume))} {q(str(volume))}",  # the volume keeps its own mount
        *([f"mkdir -p {kept}", f"mount --bind {repo} {kept}"] if hidden else []),
        "mount -o remount,bind,ro /",
        *(f"mount -t tmpfs -o size=64m tmpfs {q(path)}" for path in tmpfs),
        *([f"mkdir -p {repo}", f"mount --bind {kept} {repo}", f"mount -o remount,bind,ro {repo}"] if hidden else []),
        f"if touch {q(str(REPO / '.read-only-probe'))} 2>/dev/null; then exit {READ_ONLY_REFUSED}; fi",
        f"cd {q(str(REPO))}",
        f"{SANAD} init",
        f"{SANAD} department add ROF --name-en Revenue --name-pa ਮਾਲ --name-hi राजस्व",
        f"{SANAD} worker --concurrency 1 &",
        f"exec {SANAD} serve --port {port} --workers 2",
    ]
    return " && ".join(steps[:-2]) + " && { " + steps[-2] + " } && " + steps[-1]


@pytest.fixture
def read_only_service(backend: Backend) -> Iterator[tuple[str, dict[str, str], Path]]:
    if backend.name != "postgres-minio":
        pytest.skip("compose runs the service on PostgreSQL and MinIO")
    prefix = _namespace_prefix()
    tmpfs = _writable_paths()
    # The volume must lie outside every tmpfs path, or the tmpfs would hide it.
    home = Path(tempfile.mkdtemp(prefix="sanad-read-only-", dir="/var/tmp"))
    try:
        with private_cluster("sanad_drill") as cluster:
            minio = PrivateMinio(data=home / "minio", log=home / "minio.log")
            minio.start()
            port = free_port()
            volume = home / "keys"
            volume.mkdir()
            # The worker shares the server's loopback here (not so in compose): it uses
            # the server's TSA rather than serving the development PKI on the same port.
            env = deployment_env(cluster, minio, volume, port) | {
                "HOME": str(REPO),
                "SANAD_TSA_URL": f"http://127.0.0.1:{port}/pki/tsa",
            }
            env.pop("TMPDIR", None)
            log = home / "service.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [*prefix, "sh", "-c", _script(volume, tmpfs, port, home / "checkout")],
                    cwd="/",
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
                created = subprocess.run(
                    [SANAD, "apikey", "create", "--department", "ROF"],
                    env=env,
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=120,
                )
                yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {created.stdout.split()[-1]}"}, log
            finally:
                _stop_namespace(process)
                minio.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_issues_and_verifies_on_a_read_only_root(read_only_service: tuple[str, dict[str, str], Path]) -> None:
    base, department, log = read_only_service
    issued = httpx.post(
        f"{base}/api/v1/documents",
        json=income_certificate(),
        headers={**department, "Idempotency-Key": "read-only-1"},
        timeout=120,
    )
    assert issued.status_code == 201, issued.text + _without_access(log)
    document = issued.json()
    deadline = time.monotonic() + 120
    while document["long_term_pending"]:
        assert time.monotonic() < deadline, "the worker never added the long-term revision: " + _without_access(log)
        time.sleep(0.5)
        document = httpx.get(f"{base}/api/v1/documents/{document['id']}", headers=department, timeout=30).json()

    content = httpx.get(f"{base}/api/v1/documents/{document['id']}/content", headers=department, timeout=30)
    assert content.status_code == 200
    verdict = httpx.post(f"{base}/api/v1/verify", files={"file": ("c.pdf", content.content, "application/pdf")})

    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["indication"] == "TOTAL_PASSED", verdict.json()
    assert document["signature_level"] == "B-LTA"
    assert "Read-only file system" not in log.read_text()


def _without_access(log: Path) -> str:
    """The log without its access lines: what went wrong, if anything."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if '"sanad.access"' not in line]
    return "\n".join(lines)[-4000:]
