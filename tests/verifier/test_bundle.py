"""The cached trust bundle: what it trusts, and saving and loading it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PKI_EPOCH, Backend, IssuingDepartment
from tests.verifier.helpers import fetch, issue, qr_text, seal_kid
from trust.bootstrap import init_pki
from trust.departments import ensure_department_key
from verifier.bundle import TrustBundle, TrustBundleError
from verifier.offline import verify_seal_offline
from verifier.trust import jwks as build_jwks


def test_a_jwks_key_that_does_not_chain_to_the_anchors_is_ignored(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _, pdf = issue(client, dept)
    bundle = fetch(client, backend)
    foreign_dir = tmp_path_factory.mktemp("foreign")
    init_pki(foreign_dir, now=PKI_EPOCH)
    ensure_department_key(foreign_dir, dept.department.code, "Impostor", now=PKI_EPOCH)
    foreign = build_jwks(foreign_dir, datetime.now(UTC))["keys"]
    kid = seal_kid(qr_text(pdf))
    # Swap in the impostor's key under the genuine kid: coordinates no longer match x5c.
    swapped = [{**k, "x": foreign[0]["x"], "y": foreign[0]["y"]} if k["kid"] == kid else k for k in bundle.jwks["keys"]]
    forged = replace(bundle, jwks={"keys": [*swapped, *foreign]})

    assert kid not in {k["kid"] for k in forged.trusted_jwks()["keys"]}
    assert not {k["kid"] for k in foreign} & {k["kid"] for k in forged.trusted_jwks()["keys"]}
    assert [f.code for f in verify_seal_offline(qr_text(pdf), forged).findings] == ["SEAL_UNKNOWN_KEY"]


def test_only_the_keys_a_check_uses_are_chained(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)
    bundle = fetch(client, backend)
    kid = seal_kid(qr_text(pdf))
    everyone = bundle.trusted_jwks()["keys"]

    assert [k["kid"] for k in bundle.trusted_jwks(only={kid, None})["keys"]] == [kid]
    assert bundle.trusted_jwks(only={"0000000000000000"}) == {"keys": []}
    assert len(everyone) > 2  # every department of the test run, and the status key
    assert verify_seal_offline(qr_text(pdf), bundle).indication == "TOTAL_PASSED"


def test_bundle_saves_and_loads(client: TestClient, backend: Backend, tmp_path: Path) -> None:
    bundle = fetch(client, backend)
    bundle.save(tmp_path / "trust")

    assert sorted(p.name for p in (tmp_path / "trust").iterdir()) == [
        "crls",
        "fetched_at",
        "jwks.json",
        "status-list.jwt",
        "trust.json",
        "trust.pem",
    ]
    loaded = TrustBundle.load(tmp_path / "trust")
    assert loaded.jwks == bundle.jwks
    assert loaded.status_list == bundle.status_list
    assert loaded.trust_pem == bundle.trust_pem
    assert len(bundle.crls) == 2  # the root's and the issuing CA's
    assert sorted(loaded.crls) == sorted(bundle.crls)
    assert loaded.fetched_at == bundle.fetched_at.replace(microsecond=0)
    with pytest.raises(TrustBundleError, match="sanad trust fetch"):
        TrustBundle.load(tmp_path / "nothing")
