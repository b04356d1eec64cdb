"""PAdES B-T, B-LT and B-LTA against the development TSA and CRLs over real HTTP, with
the clock pinned and moved: past the signer certificate's expiry, past the TSA's, across
a revocation and an archive refresh.

Timeline: the PKI is born 2026-01-01 (signer certificates last 3 years, to 2029-01-01;
the TSA's 5, to 2031-01-01); documents are signed 2026-03-01.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from sqlalchemy.orm import Session

from issuer import archive
from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner, SignatureLevel, SigningKeyUnusable, SigningProfile
from issuer.templates import TemplateSpec
from tests.conftest import PKI_EPOCH, render_income_certificate
from trust.bootstrap import init_pki
from trust.ca import issuing_ca, trust_anchors_pem
from trust.departments import add_generation, current_generation, ensure_department_key
from trust.keys import load_certificate
from trust.local import free_port, serve_responder
from trust.revocation import CrlFetcher, StaticCrls
from trust.revoked import revoke_certificate
from trust.tsa_client import HttpTimeStamper
from trust.tsa_keys import rotate_tsa_key
from verifier.pdf import TrustAnchors, check_signature
from verifier.service import verify_pdf
from verifier.verdict import Indication, Reason

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SOON_AFTER = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SIGNER_EXPIRED = datetime(2029, 6, 1, tzinfo=UTC)
TSA_EXPIRED = datetime(2031, 6, 1, tzinfo=UTC)


@dataclass
class Pki:
    keys_dir: Path
    base_url: str

    def profile(self, level: SignatureLevel, *, tsa_url: str | None = None) -> SigningProfile:
        if level == SignatureLevel.B_B:
            return SigningProfile(level)
        return SigningProfile(
            level,
            timestamper=HttpTimeStamper(tsa_url or f"{self.base_url}/tsa"),
            crls=CrlFetcher(ttl=0),
            trust_roots=(load_certificate(self.keys_dir / "root-ca.pem"),),
            intermediates=(load_certificate(self.keys_dir / "issuing-ca.pem"),),
        )

    def signer(self, level: SignatureLevel, **kwargs: str) -> DepartmentSigner:
        return DepartmentSigner.load(self.keys_dir, "REV", self.profile(level, **kwargs))

    def trust(self) -> TrustAnchors:
        return TrustAnchors.from_pem(trust_anchors_pem(self.keys_dir), CrlFetcher(ttl=0))


def running_pki(path: Path) -> Iterator[Pki]:
    port = free_port()
    init_pki(path, now=PKI_EPOCH, base_url=f"http://127.0.0.1:{port}/pki")
    ensure_department_key(path, "REV", "Department of Revenue", now=PKI_EPOCH)
    # The responder reads the (travelled) clock on each request.
    with serve_responder(path, port) as base_url:
        yield Pki(path, base_url)


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    yield from running_pki(tmp_path / "pki")


@pytest.fixture
def foreign_pki(tmp_path: Path) -> Iterator[Pki]:
    """Another PKI with its own TSA, which Sanad does not trust."""
    yield from running_pki(tmp_path / "foreign")


@pytest.fixture(scope="module")
def unsigned(renderer: CertificateRenderer, templates: dict[str, TemplateSpec]) -> bytes:
    return render_income_certificate(renderer, templates, document_id="lt7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=SIGNED_AT)


def sign(pki: Pki, unsigned: bytes, level: SignatureLevel, at: datetime = SIGNED_AT, **kwargs: str) -> bytes:
    # The clock runs: long-term evidence must be produced after the signature timestamp
    # (a later second), so signing at B-LT waits for the next second.
    with time_machine.travel(at, tick=True):
        return pki.signer(level, **kwargs).sign(unsigned)


def check(pki: Pki, pdf: bytes, at: datetime) -> tuple[set[Reason], str | None]:
    with time_machine.travel(at, tick=False):
        result = check_signature(pdf, pki.trust(), moment=at)
    return {f.reason for f in result.findings}, result.level


@pytest.mark.parametrize("level", list(SignatureLevel))
def test_each_level_is_reached_and_reported(pki: Pki, unsigned: bytes, level: SignatureLevel) -> None:
    pdf = sign(pki, unsigned, level)

    with time_machine.travel(SOON_AFTER, tick=False):
        result = check_signature(pdf, pki.trust(), moment=SOON_AFTER)

    assert result.passed, result.findings
    assert result.level == level
    signature = result.reports[0]
    assert signature.kind == "signature"
    assert "Department of Revenue" in signature.signer
    assert "Sanad Development Root CA" in signature.chain[-1]
    assert signature.revocation == "good"
    assert signature.claimed_signing_time is not None
    if level.timestamped:
        assert signature.timestamp_time is not None
        assert signature.timestamp_time.startswith("2026-03-01T10:00")
        assert signature.timestamp_authority is not None
    stamps = [r for r in result.reports if r.kind == "document-timestamp"]
    assert len(stamps) == (1 if level == SignatureLevel.B_LTA else 0)


def test_after_the_signer_certificate_expires_only_timestamped_levels_validate(pki: Pki, unsigned: bytes) -> None:
    documents = {level: sign(pki, unsigned, level) for level in SignatureLevel}

    assert check(pki, documents[SignatureLevel.B_B], SIGNER_EXPIRED)[0] == {Reason.SIGNER_CERT_EXPIRED}
    for level in (SignatureLevel.B_T, SignatureLevel.B_LT, SignatureLevel.B_LTA):
        assert check(pki, documents[level], SIGNER_EXPIRED) == (set(), level), level


def test_after_the_tsa_certificate_expires_only_a_renewed_archive_validates(pki: Pki, unsigned: bytes) -> None:
    long_term = sign(pki, unsigned, SignatureLevel.B_LT)
    archived = sign(pki, unsigned, SignatureLevel.B_LTA)
    # Before the TSA certificate expires: a new TSA key, and the archive job's refresh.
    renewal = datetime(2030, 10, 1, tzinfo=UTC)
    with time_machine.travel(renewal, tick=False):
        rotate_tsa_key(pki.keys_dir, now=renewal)
        renewed = archive.refresh(archived, pki.profile(SignatureLevel.B_LTA), now=renewal)

    # Nothing trusted proves when the signature was made: both findings leave it open.
    both = {Reason.TIMESTAMP_UNTRUSTED, Reason.SIGNER_CERT_EXPIRED}
    assert check(pki, long_term, TSA_EXPIRED)[0] == both
    assert check(pki, archived, TSA_EXPIRED)[0] == both
    assert check(pki, renewed, TSA_EXPIRED) == (set(), "B-LTA")
    facts = archive.describe(renewed)
    assert facts.signed_sha256 == archive.describe(archived).signed_sha256
    assert facts.archive_expires_at is not None
    assert facts.archive_expires_at.year == 2035


def test_a_refresh_validates_its_revocation_data_as_of_the_clock_not_the_run_s_start(pki: Pki, unsigned: bytes) -> None:
    archived = sign(pki, unsigned, SignatureLevel.B_LTA)
    run_started = datetime(2030, 10, 1, tzinfo=UTC)
    # The run's earlier work took a minute: the responders' answers are that much newer
    # than its "now", which pyHanko refuses as too recent past a second's tolerance.
    with time_machine.travel(run_started + timedelta(minutes=1), tick=False):
        renewed = archive.refresh(archived, pki.profile(SignatureLevel.B_LTA), now=run_started)

    assert check(pki, renewed, run_started + timedelta(days=1)) == (set(), "B-LTA")


def test_revocation_after_a_trusted_timestamp_keeps_the_signature_valid(pki: Pki, unsigned: bytes) -> None:
    timestamped = sign(pki, unsigned, SignatureLevel.B_LT)
    untimestamped = sign(pki, unsigned, SignatureLevel.B_B)
    generation = current_generation(pki.keys_dir, "REV")
    assert generation is not None
    revoke_certificate(pki.keys_dir, generation.certificate, revoked_at=datetime(2026, 6, 1, tzinfo=UTC))
    later = datetime(2026, 7, 1, tzinfo=UTC)

    assert check(pki, timestamped, later) == (set(), "B-LT")
    # Nothing proves the B-B signature predates the revocation.
    assert check(pki, untimestamped, later)[0] == {Reason.SIGNER_REVOKED}


def test_signature_made_after_the_revocation_fails(pki: Pki, unsigned: bytes) -> None:
    generation = current_generation(pki.keys_dir, "REV")
    assert generation is not None
    revoke_certificate(pki.keys_dir, generation.certificate, revoked_at=datetime(2026, 2, 1, tzinfo=UTC))
    # A stolen key signs at B-T (B-LT would refuse: it validates the signer first).
    forged = sign(pki, unsigned, SignatureLevel.B_T)

    reasons, _ = check(pki, forged, SOON_AFTER)

    assert reasons == {Reason.SIGNER_REVOKED}


@pytest.mark.parametrize("level", [SignatureLevel.B_LT, SignatureLevel.B_LTA])
def test_signing_at_a_long_term_level_with_a_revoked_key_is_refused(
    pki: Pki, unsigned: bytes, level: SignatureLevel
) -> None:
    generation = current_generation(pki.keys_dir, "REV")
    assert generation is not None
    revoke_certificate(pki.keys_dir, generation.certificate, revoked_at=datetime(2026, 2, 1, tzinfo=UTC))

    # The fresh answers gathered after the timestamp show the revocation: nothing is issued.
    with pytest.raises(SigningKeyUnusable, match="sanad keys rotate") as refused:
        sign(pki, unsigned, level)
    assert refused.value.status_code == 503


def test_timestamp_from_an_untrusted_tsa_is_indeterminate(pki: Pki, foreign_pki: Pki, unsigned: bytes) -> None:
    pdf = sign(pki, unsigned, SignatureLevel.B_T, tsa_url=f"{foreign_pki.base_url}/tsa")

    reasons, level = check(pki, pdf, SOON_AFTER)

    assert reasons == {Reason.TIMESTAMP_UNTRUSTED}
    assert level == "B-B"


def test_tsa_unreachable_is_a_retryable_signing_failure(pki: Pki, unsigned: bytes) -> None:
    from issuer.sign import SigningFailed

    closed = f"http://127.0.0.1:{free_port()}/pki/tsa"
    with pytest.raises(SigningFailed) as raised:
        sign(pki, unsigned, SignatureLevel.B_T, tsa_url=closed)
    assert raised.value.status_code == 503


def test_content_appended_after_the_archival_timestamp_fails(pki: Pki, unsigned: bytes) -> None:
    archived = sign(pki, unsigned, SignatureLevel.B_LTA)
    tampered = archived + b"\n% appended after the archive timestamp\n"

    reasons, _ = check(pki, tampered, SOON_AFTER)

    assert Reason.NOT_ENTIRE_FILE in reasons


def test_tampered_document_timestamp_fails(pki: Pki, unsigned: bytes) -> None:
    archived = bytearray(sign(pki, unsigned, SignatureLevel.B_LTA))
    # Flip a byte inside the last revision's timestamp token (its /Contents hex string).
    contents = archived.rindex(b"/Contents <") + len(b"/Contents <") + 400
    archived[contents] = ord("0") if archived[contents] != ord("0") else ord("1")

    reasons, _ = check(pki, bytes(archived), SOON_AFTER)

    assert reasons & {Reason.SIGNATURE_INVALID, Reason.DIGEST_MISMATCH, Reason.FORMAT_FAILURE}


def test_changed_content_under_a_genuine_archival_timestamp_fails(pki: Pki, unsigned: bytes) -> None:
    # Anyone may ask a public TSA for a timestamp: one over forged content proves nothing.
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    from tests.verifier.test_pdf_checks import _append_update

    archived = sign(pki, unsigned, SignatureLevel.B_LTA)
    forged = _append_update(archived, "page")
    stamper = PdfTimeStamper(HttpTimeStamper(f"{pki.base_url}/tsa"), field_name="Forged")
    output = BytesIO()
    with time_machine.travel(SOON_AFTER, tick=False):
        stamper.timestamp_pdf(IncrementalPdfFileWriter(BytesIO(forged)), "sha256", output=output)

    reasons, _ = check(pki, output.getvalue(), SOON_AFTER)

    assert Reason.MODIFIED_AFTER_SIGNING in reasons


def test_verdicts_untrusted_tsa_is_indeterminate_and_revoked_signer_fails(
    pki: Pki, foreign_pki: Pki, unsigned: bytes, session: Session
) -> None:
    untrusted_tsa = sign(pki, unsigned, SignatureLevel.B_T, tsa_url=f"{foreign_pki.base_url}/tsa")
    with time_machine.travel(SOON_AFTER, tick=False):
        indeterminate = verify_pdf(session, pki.trust(), untrusted_tsa, moment=SOON_AFTER)
    generation = current_generation(pki.keys_dir, "REV")
    assert generation is not None
    revoke_certificate(pki.keys_dir, generation.certificate, revoked_at=datetime(2026, 2, 1, tzinfo=UTC))
    after_revocation = sign(pki, unsigned, SignatureLevel.B_T)
    with time_machine.travel(SOON_AFTER, tick=False):
        failed = verify_pdf(session, pki.trust(), after_revocation, moment=SOON_AFTER)

    assert indeterminate.indication == Indication.INDETERMINATE
    assert indeterminate.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert failed.indication == Indication.TOTAL_FAILED
    assert failed.sub_indication == "REVOKED"


def test_offline_check_of_an_old_archive_needs_current_revocation_lists(pki: Pki, unsigned: bytes) -> None:
    # The newest timestamp is checked now; the CRLs the PDF embeds are valid for a week.
    pdf = sign(pki, unsigned, SignatureLevel.B_LTA)
    a_month_later = SOON_AFTER + timedelta(days=30)
    anchors = trust_anchors_pem(pki.keys_dir)
    with time_machine.travel(a_month_later, tick=False):
        current = CrlFetcher(ttl=0).crls_for(
            [load_certificate(pki.keys_dir / "issuing-ca.pem"), current_generation(pki.keys_dir, "REV").certificate]  # type: ignore[union-attr]
        )
        embedded_only = check_signature(pdf, TrustAnchors.from_pem(anchors), moment=a_month_later)
        with_bundle = check_signature(
            pdf, TrustAnchors.from_pem(anchors, StaticCrls(tuple(current))), moment=a_month_later
        )

    assert Reason.TIMESTAMP_UNTRUSTED in {f.reason for f in embedded_only.findings}
    assert with_bundle.passed, with_bundle.findings
    assert with_bundle.level == "B-LTA"


@pytest.mark.parametrize("level", list(SignatureLevel))
def test_what_signing_reports_is_what_the_file_says(pki: Pki, unsigned: bytes, level: SignatureLevel) -> None:
    with time_machine.travel(SIGNED_AT, tick=True):
        signed = pki.signer(level).sign_document(unsigned)

    facts = archive.describe(signed.pdf)
    assert facts.signed_sha256 == hashlib.sha256(signed.pdf[: signed.signed_revision_end]).hexdigest()
    assert facts.archive_expires_at == signed.archive_expires_at
    assert (signed.archive_expires_at is not None) == (level == SignatureLevel.B_LTA)


def test_after_a_tsa_rotation_new_documents_carry_the_new_tsa_revocation_data(pki: Pki, unsigned: bytes) -> None:
    signer = pki.signer(SignatureLevel.B_LT)  # one TSA client for its life, as in a server
    with time_machine.travel(SIGNED_AT, tick=True):
        signer.sign(unsigned)
        new_tsa = rotate_tsa_key(pki.keys_dir, now=SIGNED_AT).certificate
        signer.sign(unsigned)  # its token reveals the rotation
        after = signer.sign(unsigned)

    reader = PdfFileReader(BytesIO(after), strict=False)
    embedded = {c.dump() for c in DocumentSecurityStore.read_dss(reader).load_certs()}
    assert new_tsa.public_bytes(Encoding.DER) in embedded
    assert check(pki, after, SOON_AFTER) == (set(), "B-LT")


def test_a_certificate_without_revocation_pointers_still_signs_at_b_lta(pki: Pki, unsigned: bytes) -> None:
    # Department certificates made before the PKI published CRLs name none; the TSA's does,
    # and its revocation data must come in on its own account.
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Department of Revenue")])
    issuing = issuing_ca(pki.keys_dir)
    legacy = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(PKI_EPOCH)
        .not_valid_after(PKI_EPOCH + timedelta(days=3 * 365))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing.private_key.public_key()), critical=False
        )
        .sign(issuing.private_key, hashes.SHA256())
    )
    add_generation(pki.keys_dir, "REV", legacy, private_key=key)

    pdf = sign(pki, unsigned, SignatureLevel.B_LTA)

    assert check(pki, pdf, SOON_AFTER) == (set(), "B-LTA")
