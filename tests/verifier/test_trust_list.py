"""The trust routes: the PEM bundle as before, the trust list as JSON with every key's
status (rotation, revocation, expiry), and the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from sanad.jws import jwk_coordinates
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate
from trust.ca import trust_anchors_pem
from trust.departments import current_generation, rotate_department_key
from trust.keys import key_id
from trust.revoked import revoke_certificate
from trust.service_keys import ensure_service_key
from verifier.bundle_fetch import fetch_bundle
from verifier.offline import verify_seal_offline
from verifier.pdf_seal import read_seal_and_attachment
from verifier.trust import trust_keys

KEY_FIELDS = {
    "key_id",
    "kind",
    "department",
    "subject",
    "serial",
    "not_before",
    "not_after",
    "status",
    "revoked_at",
    "sha256",
}


def trust_json(client: TestClient, backend: Backend) -> dict[str, Any]:
    backend.context.trust_publisher.invalidate()
    response = client.get("/api/v1/trust", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    listing: dict[str, Any] = response.json()
    return listing


def jwks(client: TestClient, backend: Backend) -> dict[str, Any]:
    backend.context.trust_publisher.invalidate()
    response = client.get("/api/v1/trust/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    keys: dict[str, Any] = response.json()
    return keys


def test_pem_bundle_by_default(client: TestClient, backend: Backend) -> None:
    response = client.get("/api/v1/trust")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pem-file"
    assert response.content == trust_anchors_pem(backend.settings.keys_dir)
    browser = client.get("/api/v1/trust", headers={"Accept": "text/html,*/*"})
    assert browser.headers["content-type"] == "application/x-pem-file"


def test_trust_list_json(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    listing = trust_json(client, backend)
    by_query = client.get("/api/v1/trust?format=json").json()

    assert set(listing) == {"issued_at", "anchors", "keys"}
    assert by_query["keys"] == listing["keys"]
    anchors = [x509.load_pem_x509_certificate(a.encode()) for a in listing["anchors"]]
    assert b"".join(a.public_bytes(serialization.Encoding.PEM) for a in anchors) == trust_anchors_pem(
        backend.settings.keys_dir
    )
    kinds = {k["kind"] for k in listing["keys"]}
    assert kinds == {"root-ca", "issuing-ca", "tsa", "department", "status"}
    for key in listing["keys"]:
        assert set(key) == KEY_FIELDS
        assert key["status"] in {"active", "retired", "expired", "revoked"}
        assert key["not_before"].endswith("Z")
        assert key["not_after"].endswith("Z")
    mine = [k for k in listing["keys"] if k["department"] == dept.department.code]
    assert len(mine) == 1
    assert mine[0]["kind"] == "department"
    assert mine[0]["status"] == "active"
    generation = current_generation(backend.settings.keys_dir, dept.department.code)
    assert generation is not None
    der = generation.certificate.public_bytes(serialization.Encoding.DER)
    assert mine[0]["key_id"] == generation.key_id == key_id(generation.certificate)
    assert mine[0]["sha256"] == hashlib.sha256(der).hexdigest()
    assert mine[0]["serial"] == format(generation.certificate.serial_number, "x")
    assert f"OU={dept.department.code}" in mine[0]["subject"]
    assert [k["department"] for k in listing["keys"] if k["kind"] != "department"] == [None] * (
        len(listing["keys"]) - len([k for k in listing["keys"] if k["kind"] == "department"])
    )


def test_jwks_members(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    keys = jwks(client, backend)["keys"]
    status_kid = key_id(ensure_service_key(backend.settings.keys_dir, "status").certificate)

    assert {k["sanad"]["purpose"] for k in keys} == {"seal", "status"}
    for jwk in keys:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg", "x5c", "sanad"}
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
        assert set(jwk["sanad"]) == {"department", "purpose", "not_before", "not_after", "status"}
        certificate = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
        assert key_id(certificate) == jwk["kid"]
        assert jwk_coordinates(certificate.public_key()) == {  # type: ignore[arg-type]
            k: jwk[k] for k in ("kty", "crv", "x", "y")
        }
    status = [k for k in keys if k["sanad"]["purpose"] == "status"]
    assert [k["kid"] for k in status] == [status_kid]
    assert status[0]["sanad"]["department"] is None
    assert [k["sanad"]["status"] for k in keys if k["sanad"]["department"] == dept.department.code] == ["active"]


def test_rotation_revocation_and_expiry_statuses(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    keys_dir: Path = backend.settings.keys_dir
    code = dept.department.code
    old = current_generation(keys_dir, code)
    assert old is not None
    new = rotate_department_key(keys_dir, code, dept.department.name_en)
    backend.context.kit.signers.forget(code)

    statuses = {k["key_id"]: k["status"] for k in trust_json(client, backend)["keys"] if k["department"] == code}
    assert statuses == {old.key_id: "retired", new.key_id: "active"}

    revoked_at = datetime(2026, 6, 1, tzinfo=UTC)
    revoke_certificate(keys_dir, old.certificate, revoked_at=revoked_at, reason="keyCompromise")
    listing = {k["key_id"]: k for k in trust_json(client, backend)["keys"] if k["department"] == code}
    assert listing[old.key_id]["status"] == "revoked"
    assert listing[old.key_id]["revoked_at"] == "2026-06-01T00:00:00Z"
    assert listing[new.key_id]["revoked_at"] is None
    jwk_status = {k["kid"]: k["sanad"]["status"] for k in jwks(client, backend)["keys"]}
    assert jwk_status[old.key_id] == "revoked"

    far_future = datetime.now(UTC) + timedelta(days=365 * 30)
    later = {k.key_id: k.status for k in trust_keys(keys_dir, far_future) if k.department == code}
    assert later == {old.key_id: "revoked", new.key_id: "expired"}


def test_a_seal_by_a_key_revoked_after_issue_is_not_a_pass(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    keys_dir: Path = backend.settings.keys_dir
    code = dept.department.code
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    pdf = client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers).content
    seal, _ = read_seal_and_attachment(pdf)
    assert seal is not None
    generation = current_generation(keys_dir, code)
    assert generation is not None

    def bundle() -> Any:
        backend.context.trust_publisher.invalidate()
        return fetch_bundle(
            "http://testserver", get=lambda url, accept: client.get(url, headers={"Accept": accept}).content
        )

    revoke_certificate(keys_dir, generation.certificate, revoked_at=datetime.now(UTC) + timedelta(days=2))
    later = verify_seal_offline(seal, bundle(), now=datetime.now(UTC) + timedelta(days=3))
    assert [f.code for f in later.findings if f.code.startswith("SEAL_")] == ["SEAL_KEY_REVOKED_AFTER_ISSUE"]
    assert later.indication == "INDETERMINATE"

    rotate_department_key(keys_dir, code, dept.department.name_en)
    backend.context.kit.signers.forget(code)
    listing = json.loads(json.dumps(trust_json(client, backend)))
    assert {k["status"] for k in listing["keys"] if k["key_id"] == generation.key_id} == {"retired"}


def test_a_new_or_rotated_key_is_listed_at_once(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    """The listings are cached, but a change in the keys directory is seen at once."""
    code = dept.department.code
    client.get("/api/v1/trust/jwks")  # fills the cache, which must not hide what follows
    newcomer = create_department(backend)
    new = rotate_department_key(backend.settings.keys_dir, code, dept.department.name_en)

    kids = {k["kid"] for k in client.get("/api/v1/trust/jwks").json()["keys"]}
    departments = {k["department"] for k in client.get("/api/v1/trust?format=json").json()["keys"]}
    assert new.key_id in kids
    assert newcomer.department.code in departments
    backend.context.kit.signers.forget(code)
