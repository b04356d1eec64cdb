"""Several server processes: a scrape answered by any one of them counts every process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sanad.metrics import MULTIPROC_ENV, share_metrics_between

REPO = Path(__file__).resolve().parents[2]
RECORD = """
from sanad import metrics
metrics.HTTP_REQUEST_SECONDS.labels("GET", "/v/{document_id}", "200").observe(0.01)
metrics.VERIFICATIONS.labels("TOTAL_PASSED").inc()
"""
EXPOSE = "import sys; from sanad import metrics; sys.stdout.write(metrics.exposition().decode())"


def _python(code: str, directory: Path) -> str:
    env = {**os.environ, MULTIPROC_ENV: str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout


def test_a_scrape_adds_up_every_process(tmp_path: Path) -> None:
    for _ in range(3):
        _python(RECORD, tmp_path)

    exposed = _python(EXPOSE, tmp_path)

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposed)
        for s in family.samples
    }
    route = (("method", "GET"), ("route", "/v/{document_id}"), ("status", "200"))
    assert samples[("sanad_http_request_duration_seconds_count", route)] == 3
    assert samples[("sanad_verifications_total", (("indication", "TOTAL_PASSED"),))] == 3


def test_serving_several_processes_gives_them_one_fresh_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    assert share_metrics_between(1) is None
    assert MULTIPROC_ENV not in os.environ

    chosen = share_metrics_between(4)
    assert chosen is not None
    assert os.environ[MULTIPROC_ENV] == str(chosen)
    assert list(chosen.iterdir()) == []

    # An operator's directory is used, emptied of an earlier run's files.
    stale = tmp_path / "metrics"
    stale.mkdir()
    (stale / "counter_123.db").write_bytes(b"old")
    monkeypatch.setenv(MULTIPROC_ENV, str(stale))
    assert share_metrics_between(2) == stale
    assert list(stale.iterdir()) == []
    chosen.rmdir()


def test_a_worker_serves_its_own_metrics_on_a_private_port() -> None:
    import httpx

    from sanad import metrics
    from trust.local import free_port

    port = free_port()
    metrics.ISSUE_STAGE_SECONDS.labels("render").observe(0.05)
    stop = metrics.serve_on_own_port("127.0.0.1", port)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
    finally:
        stop()

    assert 'sanad_issue_stage_duration_seconds_count{stage="render"}' in text
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
