"""The ``sanad`` command on the embedded backend, as an operator would use it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.conftest import REPO, income_certificate
from trust.local import free_port


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SANAD_") and not name.startswith("SANAD_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SANAD_DATABASE_URL", f"sqlite:///{tmp_path / 'sanad.db'}")
    monkeypatch.setenv("SANAD_STORAGE_PATH", str(tmp_path / "objects"))
    monkeypatch.setenv("SANAD_KEYS_DIR", str(tmp_path / "keys"))
    # Signing commands serve the development PKI on this address while they run.
    monkeypatch.setenv("SANAD_PUBLIC_BASE_URL", f"http://127.0.0.1:{free_port()}")
    return tmp_path


def sanad(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


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

    code, output = sanad("verify", "c.pdf")
    assert code == 0
    assert json.loads(output)["indication"] == "TOTAL_PASSED"

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


def test_unknown_type_is_a_clear_error(env: Path) -> None:
    sanad("init")
    sanad("demo-seed")
    data = env / "data.json"
    data.write_text("{}", "utf-8")

    code, output = sanad("issue", "--type", "nope", "--citizen", "C", "--data", str(data))

    assert code == 1
    assert "unknown document type" in output


def test_example_request_in_the_readme_is_valid() -> None:
    example = json.loads((REPO / "templates" / "income-certificate" / "example.json").read_text("utf-8"))

    assert example["type"] == "income-certificate"
    assert example["data"]["holder_name"]


def test_staff_add_and_the_intake_worker(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0
    password = "a long enough password"

    result = CliRunner().invoke(
        app,
        ["staff", "add", "tehsildar-ldh", "--name", "Tehsildar Ludhiana", "--role", "officer", "--department", "REV"],
        input=f"{password}\n{password}\n",
    )
    short = CliRunner().invoke(
        app, ["staff", "add", "x", "--name", "X", "--role", "officer", "--department", "REV"], input="short\nshort\n"
    )

    assert result.exit_code == 0, result.output
    assert "added officer tehsildar-ldh" in result.output
    assert short.exit_code != 0
    assert "at least 12 characters" in str(short.exception)  # main() prints it as "error: ..."
    assert sanad("intake", "work", "--once")[0] == 0


def test_keys_rotate_revoke_list_and_archive_refresh(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0
    code, before = sanad("keys", "list")
    assert code == 0
    first = next(line for line in before.splitlines() if line.startswith("REV "))
    assert "active" in first

    code, output = sanad("keys", "rotate", "REV")
    assert code == 0, output
    new_key = output.split()[-1]
    code, listing = sanad("keys", "list")
    rev = [line for line in listing.splitlines() if line.startswith("REV ")]
    assert len(rev) == 2
    assert any(new_key in line and "active" in line for line in rev)
    assert any("retired" in line for line in rev)

    code, output = sanad("keys", "revoke", "REV", "--key-id", first.split()[1], "--at", "2026-01-02T00:00:00+00:00")
    assert code == 0, output
    assert any("revoked" in line for line in sanad("keys", "list")[1].splitlines())
    assert sanad("keys", "revoke", "REV", "--key-id", "0000000000000000")[0] == 1
    assert sanad("keys", "revoke", "REV", "--at", "2026-01-02T00:00:00")[0] == 2  # no zone

    # The demo's two B-LTA certificates: their TSA certificate expires within 5 years.
    assert sanad("archive", "refresh", "--within-days", "30")[1].startswith("renewed 0")
    code, output = sanad("archive", "refresh", "--within-days", str(365 * 6))
    assert code == 0, output
    assert output.startswith("renewed 2")
    stored = list((env / "objects" / "citizens").rglob("*.pdf"))
    assert len(stored) == 2  # each replaced by its renewed file, the old object deleted
    assert all(".a" in path.name for path in stored)
    code, output = sanad("verify", str(stored[0]))
    assert code == 1  # signed with the key revoked since 2026-01-02: before its timestamp
    assert json.loads(output)["reasons"][0]["code"] == "SIGNER_REVOKED"


def test_keys_import_takes_a_certificate_from_the_ca_and_refuses_a_mismatch(env: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from trust import certify_department_key

    assert sanad("init")[0] == 0
    assert sanad("demo-seed")[0] == 0
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = certify_department_key(env / "keys", "REV", "Department of Revenue, Punjab", key.public_key())
    (env / "rev.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (env / "rev.key").write_bytes(pem)
    other = ec.generate_private_key(ec.SECP256R1())
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (env / "other.key").write_bytes(other_pem)

    code, output = sanad("keys", "import", "REV", "--certificate", "rev.pem", "--key", "other.key")
    assert code == 1
    assert "not for this key" in output
    code, output = sanad("keys", "import", "REV", "--certificate", "rev.pem", "--key", "rev.key")
    assert code == 0, output
    data = env / "data.json"
    data.write_text(json.dumps(income_certificate()["data"], ensure_ascii=False), "utf-8")
    code, output = sanad(
        "issue", "--type", "income-certificate", "--citizen", "CIT-9", "--data", str(data), "--out", "c.pdf"
    )
    assert code == 0, output
    assert sanad("verify", "c.pdf")[0] == 0
