"""``sanad intake work``, on the embedded backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_the_intake_worker_runs_a_round(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0

    assert sanad("intake", "work", "--once")[0] == 0
