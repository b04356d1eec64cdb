"""`sanad serve` with two server processes, as deployed: every stderr line is JSON, and a
scrape answered by either process counts the requests both served."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from trust.local import free_port

REQUESTS = 20


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANAD_", "PROMETHEUS_"))}
    env |= {
        "SANAD_DATABASE_URL": f"sqlite:///{tmp_path / 'sanad.db'}",
        "SANAD_STORAGE_PATH": str(tmp_path / "objects"),
        "SANAD_KEYS_DIR": str(tmp_path / "keys"),
        "SANAD_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    sanad = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*sanad, "init"], cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, check=True, timeout=120)
    stderr = tmp_path / "server.err"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [*sanad, "serve", "--port", str(port), "--workers", "2", "--no-background"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not answer within 90 s: " + stderr.read_text()[-2000:])
        yield base, stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_two_processes_one_scrape_and_json_logs(server: tuple[str, Path]) -> None:
    base, stderr = server
    for i in range(REQUESTS):
        # A new connection each time, so the kernel spreads them over both processes.
        with httpx.Client() as client:
            client.get(f"{base}/health", headers={"X-Request-ID": f"serve-test-{i:04d}"})

    samples = httpx.get(f"{base}/metrics").text
    served = [
        line
        for line in samples.splitlines()
        if line.startswith('sanad_http_request_duration_seconds_count{method="GET",route="/health",status="200"}')
    ]
    # The readiness polls before the test's own requests count too.
    assert served
    assert float(served[0].split()[-1]) >= REQUESTS

    time.sleep(0.5)
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "sanad.access" and line["route"] == "/health"]
    ours = {line["request_id"] for line in access if line["request_id"].startswith("serve-test-")}
    assert len(ours) == REQUESTS
    assert {line["logger"] for line in lines} >= {"uvicorn.error", "sanad.access"}
