"""``sanad keys``: listing, rotating, revoking and importing department keys, and what
that means for documents already signed (archive refresh, verification)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import income_certificate
from tests.shell import embedded_deployment, sanad


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


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

    from trust.departments import certify_department_key

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
