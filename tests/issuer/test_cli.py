"""``sanad issue`` from the shell, on the embedded backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_unknown_type_is_a_clear_error(env: Path) -> None:
    sanad("init")
    sanad("demo-seed")
    data = env / "data.json"
    data.write_text("{}", "utf-8")

    code, output = sanad("issue", "--type", "nope", "--citizen", "C", "--data", str(data))

    assert code == 1
    assert "unknown document type" in output
