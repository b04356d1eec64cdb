"""Offline verification: the seal in the QR code, its tamper rules, and verdicts from a
cached trust bundle (the command line is in ``test_cli``, the bundle in ``test_bundle``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.render import ATTACHMENT_NAME as RENDERED_ATTACHMENT_NAME
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.seal import SealClaims, data_hash, make_seal, seal_from_text, sealed_url
from issuer.sign import DepartmentSigner
from issuer.templates import TemplateSpec, validate_data
from sanad.i18n import LocalizedText
from sanad.jws import b64url_decode, b64url_encode, compact_json, sign_compact
from tests.conftest import PKI_EPOCH, Backend, IssuingDepartment, income_certificate, require_tool
from tests.verifier.helpers import fetch, issue, qr_text
from trust.departments import current_generation, ensure_department_key, rotate_department_key
from trust.keys import key_id
from trust.service_keys import ensure_service_key
from verifier.offline import verify_pdf_offline, verify_seal_offline
from verifier.pdf_seal import ATTACHMENT_NAME, read_seal_and_attachment
from verifier.seal_check import SealReason, verify_seal
from verifier.trust import jwks as build_jwks
from verifier.verdict import Indication

# --- a department key of our own, no database -------------------------------------------


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> DepartmentSigner:
    ensure_department_key(keys_dir, "SEALTEST", "Seal Test Department", now=PKI_EPOCH)
    generation = current_generation(keys_dir, "SEALTEST")
    assert generation is not None
    return DepartmentSigner.from_generation(keys_dir, generation)


@pytest.fixture(scope="module")
def jwks(keys_dir: Path, signer: DepartmentSigner) -> dict[str, Any]:
    ensure_service_key(keys_dir, "status")
    return build_jwks(keys_dir, datetime.now(UTC))


CLAIMS = SealClaims(
    document_id="k7q3xz5m2v9n4c8b6w1r0t5y3a",
    type="income-certificate",
    department="SEALTEST",
    holder_name="ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    issued_on=date(2026, 3, 1),
    valid_until=date(2027, 3, 1),
    status_index=42,
    data_hash=data_hash(b"{}"),
)


def reasons(seal: str, jwks: dict[str, Any]) -> list[SealReason]:
    return [f.reason for f in verify_seal(seal, jwks).findings]


def test_seal_round_trip(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    header, payload, signature = seal.split(".")

    assert json.loads(b64url_decode(header)) == {"alg": "ES256", "kid": signer.key_id, "typ": "sanad-seal+jws"}
    assert json.loads(b64url_decode(payload)) == {
        "v": 1,
        "id": CLAIMS.document_id,
        "t": "income-certificate",
        "d": "SEALTEST",
        "n": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        "i": "2026-03-01",
        "e": "2027-03-01",
        "s": 42,
        "h": CLAIMS.data_hash,
    }
    assert "ਗੁ".encode() in b64url_decode(payload)  # UTF-8, not \\u escapes: the QR stays small
    assert len(b64url_decode(signature)) == 64  # raw r||s, not DER
    check = verify_seal(seal, jwks)
    assert check.passed, check.findings
    assert check.claims == CLAIMS
    assert check.key_id == signer.key_id


def test_seal_without_expiry_omits_e(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, replace(CLAIMS, valid_until=None))

    assert "e" not in json.loads(b64url_decode(seal.split(".")[1]))
    assert verify_seal(seal, jwks).claims == replace(CLAIMS, valid_until=None)


def _with_payload(seal: str, change: dict[str, Any]) -> str:
    header, payload, signature = seal.split(".")
    claims = {**json.loads(b64url_decode(payload)), **change}
    forged = b64url_encode(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{header}.{forged}.{signature}"


def _with_header(seal: str, header: dict[str, Any], signature: str | None = None) -> str:
    _, payload, original = seal.split(".")
    encoded = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return f"{encoded}.{payload}.{original if signature is None else signature}"


def test_tampered_payload_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)

    assert reasons(_with_payload(seal, {"n": "Someone Else"}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_payload(seal, {"e": "2099-12-31"}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_payload(seal, {"s": 43}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]


def test_tampered_header_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    header = {"alg": "ES256", "kid": signer.key_id, "typ": "sanad-seal+jws"}

    assert reasons(_with_header(seal, {**header, "x": 1}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_header(seal, {**header, "typ": "JWT"}), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(_with_header(seal, {**header, "crit": ["exp"]}), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(_with_header(seal, {**header, "kid": "0" * 16}), jwks) == [SealReason.SEAL_UNKNOWN_KEY]
    duplicate = b64url_encode(b'{"alg":"ES256","alg":"none","kid":"x","typ":"sanad-seal+jws"}')
    assert reasons(f"{duplicate}.{seal.split('.', 1)[1]}", jwks) == [SealReason.SEAL_MALFORMED]


def test_tampered_signature_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    header, payload, signature = seal.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x01
    flipped = b64url_encode(bytes(raw))
    der = signer.sign_raw(f"{header}.{payload}".encode())  # a DER signature where raw r||s belongs

    assert reasons(f"{header}.{payload}.{flipped}", jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(f"{header}.{payload}.{signature[:-4]}", jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(f"{header}.{payload}.{b64url_encode(der)}", jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(f"{header}.{payload}.", jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(f"{header}.{payload}", jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(f"{header}.{payload}.a+b/", jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons("not a seal", jwks) == [SealReason.SEAL_MALFORMED]


def test_alg_none_and_hs256_are_refused(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    forged = _with_payload(seal, {"n": "Someone Else"})
    _, payload, _ = forged.split(".")

    unsigned = _with_header(forged, {"alg": "none", "kid": signer.key_id, "typ": "sanad-seal+jws"}, signature="")
    assert reasons(unsigned, jwks) == [SealReason.SEAL_UNSUPPORTED_ALG]

    # The classic confusion: an HMAC keyed with the published public key.
    jwk = next(k for k in jwks["keys"] if k["kid"] == signer.key_id)
    header = b64url_encode(json.dumps({"alg": "HS256", "kid": signer.key_id, "typ": "sanad-seal+jws"}).encode())
    mac = hmac.new(json.dumps(jwk).encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert reasons(f"{header}.{payload}.{b64url_encode(mac)}", jwks) == [SealReason.SEAL_UNSUPPORTED_ALG]
    for alg in ("ES384", "es256", "RS256", None):
        assert reasons(_with_header(seal, {"alg": alg, "kid": signer.key_id, "typ": "sanad-seal+jws"}), jwks) == [
            SealReason.SEAL_UNSUPPORTED_ALG
        ]


def test_unknown_kid_and_the_status_key_do_not_verify_seals(
    signer: DepartmentSigner, jwks: dict[str, Any], keys_dir: Path
) -> None:
    seal = make_seal(signer, CLAIMS)
    status_kid = key_id(ensure_service_key(keys_dir, "status").certificate)

    assert reasons(seal, {"keys": []}) == [SealReason.SEAL_UNKNOWN_KEY]
    assert reasons(_with_header(seal, {"alg": "ES256", "kid": status_kid, "typ": "sanad-seal+jws"}), jwks) == [
        SealReason.SEAL_WRONG_KEY_PURPOSE
    ]


def test_key_rules_department_validity_and_version(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    assert reasons(make_seal(signer, replace(CLAIMS, department="REV")), jwks) == [SealReason.SEAL_SIGNER_MISMATCH]
    before_key = replace(CLAIMS, issued_on=date(2025, 12, 1))
    assert reasons(make_seal(signer, before_key), jwks) == [SealReason.SEAL_KEY_NOT_VALID_AT_ISSUE]
    after_key = replace(CLAIMS, issued_on=date(2040, 1, 1))
    assert reasons(make_seal(signer, after_key), jwks) == [SealReason.SEAL_KEY_NOT_VALID_AT_ISSUE]

    header = {"alg": "ES256", "kid": signer.key_id, "typ": "sanad-seal+jws"}
    version_2 = sign_compact(header, compact_json({**CLAIMS.payload(), "v": 2}), signer.sign_raw)
    assert reasons(version_2, jwks) == [SealReason.SEAL_UNSUPPORTED_VERSION]
    no_index = sign_compact(header, compact_json({**CLAIMS.payload(), "s": "42"}), signer.sign_raw)
    assert reasons(no_index, jwks) == [SealReason.SEAL_MALFORMED]


def test_seal_is_read_from_a_url_or_bare() -> None:
    seal = "aaa.bbb.ccc"
    assert seal_from_text(sealed_url("https://sanad.example/v/abc", seal)) == seal
    assert seal_from_text(f"  {seal}\n") == seal
    assert seal_from_text("https://sanad.example/v/abc") is None
    assert ATTACHMENT_NAME == RENDERED_ATTACHMENT_NAME


# --- issued documents and a fetched bundle ----------------------------------------------


def test_offline_verdicts_on_a_qr_code(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)
    url = sealed_url(record["verify_url"], qr_text(pdf))
    bundle = fetch(client, backend)

    verdict = verify_seal_offline(url, bundle)
    assert verdict.indication == Indication.TOTAL_PASSED, verdict.findings
    assert verdict.document_status == "valid"
    assert verdict.status_list.state == "current"
    assert "status list: current until" in "\n".join(verdict.report())

    other = url.replace(f"/v/{record['id']}#", "/v/aaaaaaaaaaaaaaaaaaaaaaaaaa#")
    assert [f.code for f in verify_seal_offline(other, bundle).findings] == ["SEAL_ID_MISMATCH"]

    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    assert verify_seal_offline(url, bundle).indication == Indication.TOTAL_PASSED  # the old list does not know yet
    revoked = verify_seal_offline(url, fetch(client, backend))
    assert revoked.indication == Indication.TOTAL_FAILED
    assert [f.code for f in revoked.findings] == ["REVOKED"]


def test_a_status_list_past_its_exp_is_stale_never_current(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, pdf = issue(client, dept)
    bundle = fetch(client, backend)
    expires = datetime.fromtimestamp(json.loads(b64url_decode((bundle.status_list or "").split(".")[1]))["exp"], UTC)

    just_before = verify_seal_offline(qr_text(pdf), bundle, now=expires - timedelta(seconds=1))
    stale = verify_seal_offline(qr_text(pdf), bundle, now=expires)

    assert just_before.indication == Indication.TOTAL_PASSED
    assert stale.indication == Indication.INDETERMINATE
    assert [f.code for f in stale.findings] == ["STATUS_LIST_STALE"]
    assert stale.status_list.state == "stale"
    assert stale.document_status is None
    assert f"STALE since {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}" in "\n".join(stale.report())

    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    revoked_but_stale = verify_seal_offline(qr_text(pdf), fetch(client, backend), now=expires + timedelta(days=30))
    assert revoked_but_stale.indication == Indication.TOTAL_FAILED  # a stale list may still prove revocation
    assert {f.code for f in revoked_but_stale.findings} == {"REVOKED", "STATUS_LIST_STALE"}


def test_offline_verdicts_on_a_pdf(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)
    bundle = fetch(client, backend)

    verdict = verify_pdf_offline(pdf, bundle)
    assert verdict.indication == Indication.TOTAL_PASSED, verdict.findings

    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream\n") + 20] ^= 0x01
    assert verify_pdf_offline(bytes(tampered), bundle).indication == Indication.TOTAL_FAILED


def test_a_pdf_whose_data_is_not_what_the_seal_covers_fails(
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
) -> None:
    """A genuine department signature over a PDF whose attachment differs from the data its
    seal was made for (the issuer's bug, or a seal lifted from another document)."""
    signer = backend.context.kit.signers.get(dept.department.code)
    issued_at = datetime.now(UTC).replace(microsecond=0)
    seal = make_seal(
        signer,
        replace(CLAIMS, department=dept.department.code, issued_on=issued_at.date(), data_hash=data_hash(b"other")),
    )
    pdf = renderer.render(
        templates["income-certificate"],
        document_id=CLAIMS.document_id,
        verify_url=sealed_url(f"http://127.0.0.1:8000/v/{CLAIMS.document_id}", seal),
        data=income_certificate()["data"],  # type: ignore[arg-type]
        issuer=IssuerInfo(code=dept.department.code, name=LocalizedText(en="Test", pa="ਟੈਸਟ", hi="परीक्षण")),
        issued_at=issued_at,
        valid_until=None,
    )
    verdict = verify_pdf_offline(signer.sign(pdf), fetch(client, backend))

    assert verdict.indication == Indication.TOTAL_FAILED
    assert "SEAL_DATA_MISMATCH" in [f.code for f in verdict.findings]


# --- rotation ---------------------------------------------------------------------------


def test_after_rotation_both_generations_verify(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    code = dept.department.code
    old_record, old_pdf = issue(client, dept)
    old_kid = backend.context.kit.signers.get(code).key_id

    rotate_department_key(backend.settings.keys_dir, code, dept.department.name_en)
    backend.context.kit.signers.forget(code)
    new_record, new_pdf = issue(client, dept)
    new_kid = backend.context.kit.signers.get(code).key_id
    bundle = fetch(client, backend)

    assert old_kid != new_kid
    mine = {k["kid"]: k["sanad"]["status"] for k in bundle.jwks["keys"] if k["sanad"]["department"] == code}
    assert mine == {old_kid: "retired", new_kid: "active"}
    for record, pdf in ((old_record, old_pdf), (new_record, new_pdf)):
        verdict = verify_seal_offline(sealed_url(record["verify_url"], qr_text(pdf)), bundle)
        assert verdict.indication == Indication.TOTAL_PASSED, verdict.findings
        assert verify_pdf_offline(pdf, bundle).indication == Indication.TOTAL_PASSED
    assert json.loads(b64url_decode(qr_text(old_pdf).split(".")[0]))["kid"] == old_kid


def test_the_longest_sealed_url_still_scans(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], signer: DepartmentSigner, tmp_path: Path
) -> None:
    """Worst case: the longest holder name allowed, in Gurmukhi (3 bytes a letter), the
    longest type name and a production host. Print is 300 dpi; 150 leaves a margin."""
    pdftoppm, zbarimg = require_tool("pdftoppm"), require_tool("zbarimg")
    spec = templates["residence-certificate"]
    data = json.loads((spec.directory / "example.json").read_text("utf-8"))["data"]
    data[spec.holder_field] = ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ " * 10)[:120].strip()
    issued_at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    attachment_bytes = b"{}"
    claims = replace(
        CLAIMS,
        type=spec.type,
        holder_name=data[spec.holder_field],
        status_index=2**31 - 1,
        data_hash=data_hash(attachment_bytes),
    )
    url = sealed_url(f"https://verify.sanad.punjab.gov.in/v/{CLAIMS.document_id}", make_seal(signer, claims))
    pdf = renderer.render(
        spec,
        document_id=CLAIMS.document_id,
        verify_url=url,
        data=validate_data(spec, data),
        issuer=IssuerInfo(code="SEALTEST", name=LocalizedText(en="Test", pa="ਟੈਸਟ", hi="परीक्षण")),
        issued_at=issued_at,
        valid_until=date(2027, 3, 1),
        attachment=attachment_bytes,
    )
    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(
        [pdftoppm, "-r", "150", "-png", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "p")], check=True
    )
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(tmp_path / "p.png")], capture_output=True, text=True)

    assert decoded.stdout.rstrip("\n") == url
    assert read_seal_and_attachment(pdf) == (url.partition("#")[2], attachment_bytes)
    assert len(url) < 1000
