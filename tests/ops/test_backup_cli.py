"""``sanad backup`` as an operator runs it on the embedded deployment: back up with the
keys, lose everything, restore, and the certificates verify again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.backup import PASSPHRASE_ENV
from tests.shell import embedded_deployment, issue_income_certificate, sanad
from trust.local import responder_running
from trust.paths import base_url


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_backup_lose_everything_restore_verify(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sanad("init")[0] == 0
    code, output = sanad("department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व")
    assert code == 0, output
    issue_income_certificate(env, "CIT-1")
    with responder_running(env / "keys", base_url(env / "keys")):  # the checkpoint's TSA
        code, output = sanad("audit", "checkpoint")
    assert code == 0, output
    monkeypatch.setenv(PASSPHRASE_ENV, "a long passphrase for the keys")

    code, output = sanad("backup", "create", "backup", "--private-keys")
    assert code == 0, output
    assert "1 documents" in output
    assert "private keys (encrypted)" in output
    code, output = sanad("backup", "verify", "backup")
    assert code == 0, output
    assert "is sound" in output

    for lost in ("sanad.db", "objects", "keys"):
        path = env / lost
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    code, output = sanad("backup", "restore", "backup")
    assert code == 0, output
    assert "restored 1 documents" in output

    code, output = sanad("verify", "c.pdf")
    assert code == 0, output
    assert json.loads(output)["indication"] == "TOTAL_PASSED"
    assert sanad("fsck")[0] == 0
    # The audit log came back whole: every entry, and its signed, timestamped checkpoint.
    with responder_running(env / "keys", base_url(env / "keys")):
        code, output = sanad("audit", "verify")
    assert code == 0, output
    assert "intact" in output
    assert "1 checkpoints" in output
    # A second restore onto the restored deployment is refused, not merged.
    code, output = sanad("backup", "restore", "backup")
    assert code == 1
    assert "not empty" in output


def test_verify_names_each_problem_and_fails(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("backup", "create", "backup")[0] == 0
    manifest = json.loads((env / "backup" / "manifest.json").read_text())
    (env / "backup" / "pki" / manifest["pki"][0]["path"]).write_text("changed")

    code, output = sanad("backup", "verify", "backup")

    assert code == 1
    assert f"pki/{manifest['pki'][0]['path']} does not match its checksum" in output
    assert "1 problems" in output


def test_not_a_backup(env: Path) -> None:
    (env / "empty").mkdir()

    code, output = sanad("backup", "verify", "empty")

    assert code == 1
    assert "not a Sanad backup" in output
