"""The ``sanad`` command on the embedded backend, as an operator would use it: set-up, the
demo, issuing and verifying from the shell, the object-store check, departments, API keys
and serving."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from app import serving
from tests.conftest import REPO, income_certificate
from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_init_seed_issue_verify_fsck(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert (env / "keys" / "root-ca.pem").exists()
    assert oct((env / "keys" / "root-ca.key").stat().st_mode & 0o777) == "0o600"
    code, output = sanad("demo-seed")
    assert code == 0
    assert "sk_rev_" in output
    assert "sign in with 9876543210" in output
    assert "Desk account 'officer'" in output
    assert sanad("demo-seed")[0] == 0  # a rerun issues nothing new
    assert len(list((env / "objects" / "citizens").rglob("*.pdf"))) == 2
    data = env / "data.json"
    data.write_text(json.dumps(income_certificate()["data"], ensure_ascii=False), "utf-8")

    code, output = sanad(
        "issue", "--type", "income-certificate", "--citizen", "CIT-1", "--data", str(data), "--out", "c.pdf"
    )
    assert code == 0, output
    record = json.loads(output)
    assert record["status"] == "issued"
    # No job runner outlives a command on the embedded deployment: the long-term
    # revision is added in line, not left pending.
    assert (record["signature_level"], record["long_term_pending"]) == ("B-LTA", False)

    code, output = sanad("verify", "c.pdf")
    assert code == 0
    assert json.loads(output)["indication"] == "TOTAL_PASSED"
    assert json.loads(output)["level"] == "B-LTA"

    tampered = env / "tampered.pdf"
    tampered.write_bytes((env / "c.pdf").read_bytes() + b"\n%x\n")
    code, output = sanad("verify", str(tampered))
    assert code == 1
    assert json.loads(output)["indication"] == "TOTAL_FAILED"

    assert sanad("fsck")[0] == 0


def test_fsck_reports_and_removes_orphans_past_the_grace_period(env: Path) -> None:
    assert sanad("init")[0] == 0
    orphan = env / "objects" / "citizens" / "ref" / "lost.pdf"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"%PDF-lost")
    fresh = orphan.with_name("in-flight.pdf")
    fresh.write_bytes(b"%PDF-being-committed")
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))

    code, output = sanad("fsck")
    assert code == 1
    assert "citizens/ref/lost.pdf" in output
    assert "in-flight" not in output

    code, output = sanad("fsck", "--fix")
    assert code == 0
    assert not orphan.exists()
    assert fresh.exists()


def test_department_and_apikey_commands(env: Path) -> None:
    sanad("init")
    code, _ = sanad("department", "add", "trn", "--name-en", "Transport", "--name-pa", "ਟਰਾਂਸਪੋਰਟ", "--name-hi", "परिवहन")
    assert code == 0
    assert (env / "keys" / "departments" / "TRN" / "current").exists()
    code, output = sanad("apikey", "create", "--department", "TRN")
    assert code == 0
    assert output.strip().startswith("sk_trn_")
    assert sanad("department", "add", "TRN", "--name-en", "x", "--name-pa", "x", "--name-hi", "x")[0] != 0


def test_example_request_in_the_readme_is_valid() -> None:
    example = json.loads((REPO / "templates" / "income-certificate" / "example.json").read_text("utf-8"))

    assert example["type"] == "income-certificate"
    assert example["data"]["holder_name"]


@pytest.mark.parametrize(("args", "workers"), [((), os.cpu_count()), (("--workers", "1"), 1), (("--workers", "3"), 3)])
def test_serve_runs_a_worker_per_core_unless_told(
    env: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], workers: int
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(serving, "serve_http", lambda app, **options: served.update(options, app=app))

    code, output = sanad("serve", *args)

    assert code == 0, output
    assert served["app"] == "app.factory:create_app"
    assert served["workers"] == workers
