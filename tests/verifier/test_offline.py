"""Offline verification: the seal in the QR code (the compact one, and the JWS of documents
issued before it), its tamper rules, and verdicts from a cached trust bundle (the command
line is in ``test_cli``, the bundle in ``test_bundle``, the format in
``tests/issuer/test_seal``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from fastapi.testclient import TestClient

from issuer.render import ATTACHMENT_NAME as RENDERED_ATTACHMENT_NAME
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.seal import data_hash, encode_claims, make_seal, seal_from_text, sealed_url
from issuer.sign import DepartmentSigner
from issuer.templates import TemplateSpec
from sanad.cose import CoseProblem
from sanad.i18n import LocalizedText
from sanad.jws import JwsProblem, b64url_decode, b64url_encode
from tests.conftest import PKI_EPOCH, Backend, IssuingDepartment, income_certificate
from tests.pdf_tampering import alter_content
from tests.verifier.helpers import (
    cose_parts,
    cose_seal,
    department_signer,
    example_claims,
    fetch,
    issue,
    jws_seal,
    qr_text,
    resigned,
    seal_kid,
)
from trust.departments import current_generation, ensure_department_key, rotate_department_key
from trust.keys import key_id
from trust.service_keys import ensure_service_key
from verifier.offline import verify_pdf_offline, verify_seal_offline
from verifier.pdf_seal import ATTACHMENT_NAME
from verifier.seal_check import SealReason, verify_seal
from verifier.trust import jwks as build_jwks
from verifier.verdict import Indication

# --- a department key of our own, no database -------------------------------------------


@pytest.fixture(scope="module")
def signer(keys_dir: Path) -> DepartmentSigner:
    return department_signer(keys_dir, "SEALTEST")


@pytest.fixture(scope="module")
def jwks(keys_dir: Path, signer: DepartmentSigner) -> dict[str, Any]:
    ensure_service_key(keys_dir, "status")
    return build_jwks(keys_dir, datetime.now(UTC))


CLAIMS = example_claims("SEALTEST")
#: The same statement in a seal from before the compact one: the whole SHA-256.
LEGACY = replace(CLAIMS, data_hash=hashlib.sha256(b"{}").digest())


def reasons(seal: str, jwks: dict[str, Any]) -> list[SealReason]:
    return [f.reason for f in verify_seal(seal, jwks).findings]


# --- the compact seal (COSE) --------------------------------------------------------------


def test_seal_round_trip(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    protected, unprotected, payload, signature = cose_parts(seal)

    assert cbor2.loads(protected) == {1: -7, 4: bytes.fromhex(signer.key_id)}
    assert unprotected == {}
    assert cbor2.loads(payload) == {
        7: base64.b32decode(CLAIMS.document_id.upper() + "======"),
        -1: 1,
        -2: bytes([0x14]) + bytes(ord(c) if c == " " else 0x80 | (ord(c) & 0x7F) for c in CLAIMS.holder_name),
        -3: (date(2026, 3, 1) - date(1970, 1, 1)).days,
        -4: (date(2027, 3, 1) - date(1970, 1, 1)).days,
        -5: 42,
        -6: CLAIMS.data_hash,
    }
    assert len(signature) == 64  # raw r||s, not DER
    check = verify_seal(seal, jwks)
    assert check.passed, check.findings
    assert check.claims == CLAIMS  # the department is the key's
    assert check.key_id == signer.key_id


def test_seal_without_expiry_has_no_expiry_claim(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, replace(CLAIMS, valid_until=None))

    assert -4 not in cbor2.loads(cose_parts(seal)[2])
    assert verify_seal(seal, jwks).claims == replace(CLAIMS, valid_until=None)


def test_tampered_compact_seal_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    protected, _, payload, signature = cose_parts(make_seal(signer, CLAIMS))
    claims = cbor2.loads(payload)
    for change in ({-2: "Someone Else"}, {-4: 30000}, {-5: 43}, {7: bytes(16)}):
        forged = cbor2.dumps({**claims, **change}, canonical=True)
        assert reasons(cose_seal(protected, forged, signature), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert reasons(cose_seal(protected, payload, flipped), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(cose_seal(protected, payload, signature[:63]), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    der = signer.sign_raw(payload)  # a DER signature where raw r||s belongs
    assert reasons(cose_seal(protected, payload, der), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]


def test_compact_seal_header_rules(signer: DepartmentSigner, jwks: dict[str, Any], keys_dir: Path) -> None:
    payload = encode_claims(CLAIMS)
    kid = bytes.fromhex(signer.key_id)
    status_kid = bytes.fromhex(key_id(ensure_service_key(keys_dir, "status").certificate))

    assert reasons(resigned(signer, {1: -7, 4: kid}, payload), jwks) == []
    assert reasons(resigned(signer, {1: -35, 4: kid}, payload), jwks) == [SealReason.SEAL_UNSUPPORTED_ALG]
    assert reasons(resigned(signer, {4: kid}, payload), jwks) == [SealReason.SEAL_UNSUPPORTED_ALG]
    assert reasons(resigned(signer, {1: -7, 2: [4], 4: kid}, payload), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(resigned(signer, {1: -7}, payload), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(resigned(signer, {1: -7, 4: status_kid}, payload), jwks) == [SealReason.SEAL_WRONG_KEY_PURPOSE]
    protected, _, payload, signature = cose_parts(make_seal(signer, CLAIMS))
    in_the_open = cose_seal(protected, payload, signature, unprotected={4: kid})
    assert reasons(in_the_open, jwks) == [SealReason.SEAL_MALFORMED]


def test_a_wrong_key_id_is_named(signer: DepartmentSigner, jwks: dict[str, Any], keys_dir: Path) -> None:
    """A kid no trusted key has: indeterminate (a newer key?), never a pass. A kid of
    another department's key: the signature is not that key's, so it fails."""
    payload = encode_claims(CLAIMS)
    unknown = verify_seal(resigned(signer, {1: -7, 4: bytes(8)}, payload), jwks)
    assert [f.reason for f in unknown.findings] == [SealReason.SEAL_UNKNOWN_KEY]
    assert "0000000000000000 is not in the trust list" in unknown.findings[0].message
    assert "fetch the trust list" in unknown.findings[0].message

    ensure_department_key(keys_dir, "OTHERDEPT", "Another Department", now=PKI_EPOCH)
    other = current_generation(keys_dir, "OTHERDEPT")
    assert other is not None
    everyone = build_jwks(keys_dir, datetime.now(UTC))
    borrowed = resigned(signer, {1: -7, 4: bytes.fromhex(other.key_id)}, payload)
    assert reasons(borrowed, everyone) == [SealReason.SEAL_SIGNATURE_INVALID]


def test_truncated_or_garbled_digits_are_malformed(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = make_seal(signer, CLAIMS)
    for damaged in (seal[:-1], seal[:-17], seal[:60], "1" * len(seal), seal + "0"):
        found = verify_seal(damaged, jwks).findings
        assert [f.reason for f in found] == [SealReason.SEAL_MALFORMED], damaged
        assert "damaged or incomplete" in found[0].message


def test_key_validity_at_issue(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    before_key = replace(CLAIMS, issued_on=date(2025, 12, 1))
    assert reasons(make_seal(signer, before_key), jwks) == [SealReason.SEAL_KEY_NOT_VALID_AT_ISSUE]
    after_key = replace(CLAIMS, issued_on=date(2040, 1, 1))
    assert reasons(make_seal(signer, after_key), jwks) == [SealReason.SEAL_KEY_NOT_VALID_AT_ISSUE]


def test_a_newer_format_is_indeterminate_not_forged(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    kid = bytes.fromhex(signer.key_id)
    claims = cbor2.loads(encode_claims(CLAIMS))
    with_new_claim = resigned(signer, {1: -7, 4: kid}, cbor2.dumps({**claims, -20: "new"}, canonical=True))
    new_type = resigned(signer, {1: -7, 4: kid}, cbor2.dumps({**claims, -1: 900}, canonical=True))
    no_index = resigned(signer, {1: -7, 4: kid}, cbor2.dumps({**claims, -5: "42"}, canonical=True))

    assert reasons(with_new_claim, jwks) == [SealReason.SEAL_UNSUPPORTED_VERSION]
    assert reasons(new_type, jwks) == [SealReason.SEAL_UNSUPPORTED_VERSION]
    assert reasons(no_index, jwks) == [SealReason.SEAL_MALFORMED]


def test_seal_problems_map_to_reasons() -> None:
    assert {str(p) for p in CoseProblem} == {str(p) for p in JwsProblem}


# --- seals issued before: compact JWS -----------------------------------------------------


def _with_payload(seal: str, change: dict[str, Any]) -> str:
    header, payload, signature = seal.split(".")
    claims = {**json.loads(b64url_decode(payload)), **change}
    forged = b64url_encode(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{header}.{forged}.{signature}"


def _with_header(seal: str, header: dict[str, Any], signature: str | None = None) -> str:
    _, payload, original = seal.split(".")
    encoded = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    return f"{encoded}.{payload}.{original if signature is None else signature}"


def test_legacy_jws_seal_still_verifies(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = jws_seal(signer, LEGACY)
    check = verify_seal(seal, jwks)

    assert check.passed, check.findings
    assert check.claims == LEGACY
    assert check.claims is not None
    assert check.claims.covers(b"{}")
    assert verify_seal(jws_seal(signer, replace(LEGACY, valid_until=None)), jwks).claims == replace(
        LEGACY, valid_until=None
    )


def test_tampered_legacy_payload_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = jws_seal(signer, LEGACY)

    assert reasons(_with_payload(seal, {"n": "Someone Else"}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_payload(seal, {"e": "2099-12-31"}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_payload(seal, {"s": 43}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]


def test_tampered_legacy_header_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = jws_seal(signer, LEGACY)
    header = {"alg": "ES256", "kid": signer.key_id, "typ": "sanad-seal+jws"}

    assert reasons(_with_header(seal, {**header, "x": 1}), jwks) == [SealReason.SEAL_SIGNATURE_INVALID]
    assert reasons(_with_header(seal, {**header, "typ": "JWT"}), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(_with_header(seal, {**header, "crit": ["exp"]}), jwks) == [SealReason.SEAL_MALFORMED]
    assert reasons(_with_header(seal, {**header, "kid": "0" * 16}), jwks) == [SealReason.SEAL_UNKNOWN_KEY]
    duplicate = b64url_encode(b'{"alg":"ES256","alg":"none","kid":"x","typ":"sanad-seal+jws"}')
    assert reasons(f"{duplicate}.{seal.split('.', 1)[1]}", jwks) == [SealReason.SEAL_MALFORMED]


def test_tampered_legacy_signature_is_invalid(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = jws_seal(signer, LEGACY)
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


def test_legacy_alg_none_and_hs256_are_refused(signer: DepartmentSigner, jwks: dict[str, Any]) -> None:
    seal = jws_seal(signer, LEGACY)
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


def test_legacy_key_rules_department_and_version(
    signer: DepartmentSigner, jwks: dict[str, Any], keys_dir: Path
) -> None:
    status_kid = key_id(ensure_service_key(keys_dir, "status").certificate)
    seal = jws_seal(signer, LEGACY)
    assert reasons(seal, {"keys": []}) == [SealReason.SEAL_UNKNOWN_KEY]
    assert reasons(_with_header(seal, {"alg": "ES256", "kid": status_kid, "typ": "sanad-seal+jws"}), jwks) == [
        SealReason.SEAL_WRONG_KEY_PURPOSE
    ]
    assert reasons(jws_seal(signer, replace(LEGACY, department="REV")), jwks) == [SealReason.SEAL_SIGNER_MISMATCH]
    assert reasons(jws_seal(signer, LEGACY, version=2), jwks) == [SealReason.SEAL_UNSUPPORTED_VERSION]
    assert reasons(jws_seal(signer, replace(LEGACY, data_hash=b"short")), jwks) == [SealReason.SEAL_MALFORMED]


def test_seal_is_read_from_a_url_or_bare() -> None:
    assert seal_from_text(sealed_url("https://sanad.example/v/abc", "0123")) == "0123"
    assert seal_from_text("https://sanad.example/v/abc#aaa.bbb.ccc") == "aaa.bbb.ccc"
    assert seal_from_text("  aaa.bbb.ccc\n") == "aaa.bbb.ccc"
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
    assert verdict.claims is not None
    assert verdict.claims.document_id == record["id"]
    assert "status list: current until" in "\n".join(verdict.report())

    other = url.replace(f"/V/{record['id'].upper()}#", "/V/AAAAAAAAAAAAAAAAAAAAAAAAAA#")
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


def test_bad_input_gets_a_clear_offline_verdict(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)
    url = sealed_url(record["verify_url"], qr_text(pdf))
    bundle = fetch(client, backend)
    signer = backend.context.kit.signers.get(dept.department.code)
    _, _, payload, _ = cose_parts(qr_text(pdf))

    wrong_kid = verify_seal_offline(
        sealed_url(record["verify_url"], resigned(signer, {1: -7, 4: bytes(8)}, payload)), bundle
    )
    assert wrong_kid.indication == Indication.INDETERMINATE
    assert [f.code for f in wrong_kid.findings] == ["SEAL_UNKNOWN_KEY"]
    assert "not in the trust list" in "\n".join(wrong_kid.report())

    truncated = verify_seal_offline(url[:-20], bundle)
    assert truncated.indication == Indication.TOTAL_FAILED
    assert [f.code for f in truncated.findings] == ["SEAL_MALFORMED"]
    assert "damaged or incomplete" in "\n".join(truncated.report())
    assert truncated.claims is None

    nothing = verify_seal_offline(url.partition("#")[0], bundle)
    assert [f.code for f in nothing.findings] == ["NO_SEAL"]


def render_sealed(
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
    document_id: str,
    url: str,
    dept: IssuingDepartment,
    valid_until: date | None,
    attachment: bytes | None,
) -> bytes:
    """An unsigned income certificate whose QR code and link carry ``url``."""
    return renderer.render(
        templates["income-certificate"],
        document_id=document_id,
        verify_url=url,
        data=income_certificate()["data"],  # type: ignore[arg-type]
        issuer=IssuerInfo(code=dept.department.code, name=LocalizedText(en="Test", pa="ਟੈਸਟ", hi="परीक्षण")),
        issued_at=datetime.now(UTC).replace(microsecond=0),
        valid_until=valid_until,
        attachment=attachment,
    )


def test_a_document_sealed_with_a_jws_keeps_verifying(
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
) -> None:
    """Certificates issued before the compact seal carry a JWS: their QR text and their PDF
    still verify offline (its status-list entry borrowed from a document issued now)."""
    record, pdf = issue(client, dept)
    bundle = fetch(client, backend)
    current = verify_seal_offline(qr_text(pdf), bundle).claims
    assert current is not None
    signer = backend.context.kit.signers.get(dept.department.code)
    attachment = b'{"legacy": true}'
    legacy = replace(current, data_hash=hashlib.sha256(attachment).digest())
    url = f"{record['verify_url']}#{jws_seal(signer, legacy)}"  # as those links were: lower case

    verdict = verify_seal_offline(url, bundle)
    assert verdict.indication == Indication.TOTAL_PASSED, verdict.findings
    assert verdict.claims == legacy

    legacy_pdf = render_sealed(renderer, templates, record["id"], url, dept, legacy.valid_until, attachment)
    from_pdf = verify_pdf_offline(signer.sign(legacy_pdf), bundle)
    assert from_pdf.indication == Indication.TOTAL_PASSED, from_pdf.findings
    assert from_pdf.claims == legacy


def test_offline_verdicts_on_a_pdf(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)
    bundle = fetch(client, backend)

    verdict = verify_pdf_offline(pdf, bundle)
    assert verdict.indication == Indication.TOTAL_PASSED, verdict.findings

    tampered = alter_content(pdf)
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
    url = sealed_url(f"http://127.0.0.1:8000/v/{CLAIMS.document_id}", seal)
    pdf = render_sealed(renderer, templates, CLAIMS.document_id, url, dept, None, None)
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
    assert seal_kid(qr_text(old_pdf)) == old_kid
