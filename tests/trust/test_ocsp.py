"""The development PKI's OCSP responder (RFC 6960) over real HTTP: checked by openssl, by
pyHanko's certificate validator with no CRLs at all, and embedded in PAdES B-LT signatures.

The openssl tests run on the real clock (openssl checks the response times against it);
the pyHanko tests pin the clock, as test_long_term.py does.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError

from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner, SignatureLevel, SigningProfile
from issuer.templates import TemplateSpec
from tests.conftest import PKI_EPOCH, render_income_certificate, require_tool
from trust.bootstrap import init_pki
from trust.ca import trust_anchors_pem
from trust.crl import Revocation
from trust.departments import current_generation, ensure_department_key
from trust.keys import CertifiedKey, load_certificate, load_pair
from trust.local import free_port, serve_responder
from trust.ocsp import ocsp_response
from trust.paths import ocsp_url
from trust.revocation import CrlFetcher, OcspFetcher, ocsp_urls
from trust.revoked import revoke_certificate
from trust.tsa_client import HttpTimeStamper
from verifier.pdf import TrustAnchors, check_signature

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
REVOKED_AFTER = timedelta(days=31)  # of the PKI's birth
REVOKED_AT = PKI_EPOCH + REVOKED_AFTER


@dataclass
class Pki:
    keys_dir: Path
    base_url: str

    def certificate(self, name: str) -> x509.Certificate:
        return load_certificate(self.keys_dir / f"{name}.pem")

    def department(self, code: str) -> x509.Certificate:
        generation = current_generation(self.keys_dir, code)
        assert generation is not None
        return generation.certificate

    def department_path(self, code: str) -> Path:
        generation = current_generation(self.keys_dir, code)
        assert generation is not None
        return generation.certificate_path


def _pki(path: Path, born: datetime) -> Iterator[Pki]:
    port = free_port()
    init_pki(path, now=born, base_url=f"http://127.0.0.1:{port}/pki")
    ensure_department_key(path, "REV", "Department of Revenue", now=born)
    ensure_department_key(path, "GONE", "Department of Abolished Things", now=born)
    revoke_certificate(path, Pki(path, "").department("GONE"), revoked_at=born + REVOKED_AFTER, reason="key_compromise")
    with serve_responder(path, port) as base_url:
        yield Pki(path, base_url)


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    """Born at PKI_EPOCH; tests pin the clock."""
    yield from _pki(tmp_path / "pki", PKI_EPOCH)


@pytest.fixture
def live_pki(tmp_path: Path) -> Iterator[Pki]:
    """Born 40 days ago (so the revocation is past), on the real clock (for openssl)."""
    yield from _pki(tmp_path / "live", datetime.now(UTC) - timedelta(days=40))


def post(url: str, body: bytes, content_type: str = "application/ocsp-request") -> ocsp.OCSPResponse:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (local http)
        assert response.headers["Content-Type"] == "application/ocsp-response"
        return ocsp.load_der_ocsp_response(response.read())


def request_for(certificate: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


# --- openssl over HTTP -----------------------------------------------------------------------


def openssl_ocsp(pki: Pki, certificate: Path, issuer: str = "issuing-ca") -> str:
    openssl = require_tool("openssl")
    bundle = pki.keys_dir / "bundle.pem"
    bundle.write_bytes(trust_anchors_pem(pki.keys_dir))
    result = subprocess.run(
        [
            openssl,
            "ocsp",
            "-issuer",
            str(pki.keys_dir / f"{issuer}.pem"),
            "-cert",
            str(certificate),
            "-url",
            f"{pki.base_url}/ocsp",
            "-CAfile",
            str(bundle),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert "Response verify OK" in result.stderr, result.stderr
    assert "WARNING" not in result.stdout + result.stderr  # e.g. "no nonce in response"
    return result.stdout


def test_openssl_verifies_a_good_answer(live_pki: Pki) -> None:
    out = openssl_ocsp(live_pki, live_pki.department_path("REV"))

    assert f"{live_pki.department_path('REV')}: good" in out


def test_openssl_verifies_a_revoked_answer(live_pki: Pki) -> None:
    out = openssl_ocsp(live_pki, live_pki.department_path("GONE"))

    assert ": revoked" in out
    assert "Reason: keyCompromise" in out


def test_openssl_verifies_the_root_answering_for_the_issuing_ca(live_pki: Pki) -> None:
    out = openssl_ocsp(live_pki, live_pki.keys_dir / "issuing-ca.pem", issuer="root-ca")

    assert "issuing-ca.pem: good" in out


# --- the protocol ----------------------------------------------------------------------------


def test_certificates_name_the_responder(pki: Pki) -> None:
    url = ocsp_url(pki.keys_dir)
    assert url == f"{pki.base_url}/ocsp"
    assert ocsp_urls(pki.department("REV")) == [url]
    assert ocsp_urls(pki.certificate("issuing-ca")) == [url]
    assert ocsp_urls(pki.certificate("root-ca")) == []


def test_answer_is_signed_by_the_ca_and_echoes_the_nonce(pki: Pki) -> None:
    issuing = pki.certificate("issuing-ca")
    with time_machine.travel(SIGNED_AT, tick=False):
        answer = post(f"{pki.base_url}/ocsp", request_for(pki.department("REV"), issuing, nonce=b"n" * 16))

    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == pki.department("REV").serial_number
    assert answer.hash_algorithm.name == "sha256"
    assert answer.produced_at_utc == answer.this_update_utc == SIGNED_AT
    assert answer.next_update_utc == SIGNED_AT + timedelta(hours=24)
    assert answer.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(issuing.public_key()).digest
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    key = issuing.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert answer.signature_hash_algorithm is not None
    key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(answer.signature_hash_algorithm))


def test_revoked_answer_carries_time_and_reason(pki: Pki) -> None:
    with time_machine.travel(SIGNED_AT, tick=False):
        answer = post(f"{pki.base_url}/ocsp", request_for(pki.department("GONE"), pki.certificate("issuing-ca")))

    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == REVOKED_AT
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise


def test_get_form(pki: Pki) -> None:
    der = request_for(pki.department("REV"), pki.certificate("issuing-ca"))
    encoded = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    with urllib.request.urlopen(f"{pki.base_url}/ocsp/{encoded}", timeout=5) as response:  # noqa: S310
        assert response.headers["Content-Type"] == "application/ocsp-response"
        answer = ocsp.load_der_ocsp_response(response.read())

    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize("body", [b"", b"\x30\x03\x02\x01\x00", b"not DER at all"])
def test_malformed_requests_get_malformed_request(pki: Pki, body: bytes) -> None:
    assert post(f"{pki.base_url}/ocsp", body).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_malformed_get_gets_malformed_request(pki: Pki) -> None:
    with urllib.request.urlopen(f"{pki.base_url}/ocsp/%21%21notbase64", timeout=5) as response:  # noqa: S310
        answer = ocsp.load_der_ocsp_response(response.read())

    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_wrong_content_type_is_refused(pki: Pki) -> None:
    der = request_for(pki.department("REV"), pki.certificate("issuing-ca"))
    with pytest.raises(urllib.error.HTTPError) as raised:
        post(f"{pki.base_url}/ocsp", der, content_type="application/octet-stream")
    assert raised.value.code == 415
    raised.value.close()


def test_certificates_of_another_ca_are_unauthorized(pki: Pki, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    init_pki(foreign, now=PKI_EPOCH)
    ensure_department_key(foreign, "REV", "Department of Revenue", now=PKI_EPOCH)
    generation = current_generation(foreign, "REV")
    assert generation is not None

    der = request_for(generation.certificate, load_certificate(foreign / "issuing-ca.pem"))
    answer = post(f"{pki.base_url}/ocsp", der)

    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_builder_answers_each_request_and_never_raises(pki: Pki) -> None:
    issuing: CertifiedKey = load_pair(pki.keys_dir / "issuing-ca")
    revoked = Revocation(pki.department("GONE").serial_number, REVOKED_AT)
    request = request_for(pki.department("GONE"), issuing.certificate)
    status_of = {revoked.serial: revoked}.get

    der = ocsp_response(request, issuing, status_of=status_of, now=SIGNED_AT, validity=timedelta(hours=1))
    answer = ocsp.load_der_ocsp_response(der)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason is None
    assert answer.next_update_utc == SIGNED_AT + timedelta(hours=1)

    for garbage in (b"\xff" * 40, request[:-3]):
        der = ocsp_response(garbage, issuing, status_of=status_of, now=SIGNED_AT)
        assert ocsp.load_der_ocsp_response(der).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


# --- pyHanko ---------------------------------------------------------------------------------


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def validate(pki: Pki, code: str) -> None:
    root, issuing, certificate = pki.certificate("root-ca"), pki.certificate("issuing-ca"), pki.department(code)
    with time_machine.travel(SIGNED_AT, tick=False):
        ocsps = OcspFetcher(ttl=0).responses_for([certificate, issuing], [issuing, root])
        assert len(ocsps) == 2  # the department's, from the issuing CA; the issuing CA's, from the root
        context = ValidationContext(
            trust_roots=[_asn1(root)],
            other_certs=[_asn1(issuing)],
            crls=[],
            ocsps=ocsps,
            revocation_mode="hard-fail",
            allow_fetching=False,
            moment=SIGNED_AT,
        )
        validator = CertificateValidator(_asn1(certificate), validation_context=context)
        asyncio.run(validator.async_validate_usage({"digital_signature"}))  # type: ignore[no-untyped-call]


def test_pyhanko_accepts_a_good_certificate_on_ocsp_alone(pki: Pki) -> None:
    validate(pki, "REV")


def test_pyhanko_reports_a_revoked_certificate(pki: Pki) -> None:
    with pytest.raises(RevokedError, match="revoked"):
        validate(pki, "GONE")


def test_fetcher_caches_per_certificate(pki: Pki) -> None:
    fetcher = OcspFetcher()
    issuing, root = pki.certificate("issuing-ca"), pki.certificate("root-ca")
    with time_machine.travel(SIGNED_AT, tick=False):
        first = fetcher.responses_for([pki.department("REV")], [issuing, root])
        again = fetcher.responses_for([pki.department("REV"), pki.department("REV")], [issuing, root])
    assert again == first  # the nonce differs per request: equal bytes mean one request
    assert fetcher.responses_for([root], [root]) == []  # a root names no responder


def test_b_lt_signature_embeds_ocsp_responses_and_verifies(
    pki: Pki, renderer: CertificateRenderer, templates: dict[str, TemplateSpec]
) -> None:
    unsigned = render_income_certificate(
        renderer, templates, document_id="oc7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=SIGNED_AT
    )
    profile = SigningProfile(
        SignatureLevel.B_LT,
        timestamper=HttpTimeStamper(f"{pki.base_url}/tsa"),
        crls=CrlFetcher(ttl=0),
        trust_roots=(pki.certificate("root-ca"),),
        intermediates=(pki.certificate("issuing-ca"),),
        ocsp=OcspFetcher(),
    )
    with time_machine.travel(SIGNED_AT, tick=True):  # the answers must come a second later
        pdf = DepartmentSigner.load(pki.keys_dir, "REV", profile).sign(unsigned)

    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf)))
    embedded = [ocsp.load_der_ocsp_response(ref.get_object().data) for ref in dss.ocsps]
    assert {answer.serial_number for answer in embedded} >= {
        pki.department("REV").serial_number,
        pki.certificate("issuing-ca").serial_number,
    }
    assert all(answer.certificate_status == ocsp.OCSPCertStatus.GOOD for answer in embedded)
    # Produced after the signature timestamp (made at SIGNED_AT, to the second).
    assert all(answer.this_update_utc > SIGNED_AT for answer in embedded)

    at = SIGNED_AT + timedelta(days=1)
    trust = TrustAnchors.from_pem(trust_anchors_pem(pki.keys_dir), CrlFetcher(ttl=0), ocsp=OcspFetcher(ttl=0))
    with time_machine.travel(at, tick=False):
        result = check_signature(pdf, trust, moment=at)
    assert result.passed, result.findings
    assert result.level == SignatureLevel.B_LT
