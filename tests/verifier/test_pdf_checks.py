"""Every signature rule of the verifier, each with the tamper that breaks it.

Time is pinned: the PKI is born on 2026-01-01, documents are signed on 2026-03-01 and
validated on 2026-03-02, so certificate validity never depends on the day tests run.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner
from issuer.templates import TemplateSpec
from tests.conftest import PKI_EPOCH, render_income_certificate
from tests.pdf_tampering import content_byte
from trust.bootstrap import init_pki
from trust.departments import ensure_department_key
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import Reason

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
CHECKED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def unsigned(renderer: CertificateRenderer, templates: dict[str, TemplateSpec]) -> bytes:
    return render_income_certificate(renderer, templates, document_id="k7q3xz5m2v9n4c8b6w1r0t5y3a", issued_at=SIGNED_AT)


def _signer(keys_dir: Path, code: str = "REV") -> DepartmentSigner:
    ensure_department_key(keys_dir, code, "Department of Revenue", now=PKI_EPOCH)
    return DepartmentSigner.load(keys_dir, code)


@pytest.fixture(scope="module")
def signed(unsigned: bytes, keys_dir: Path) -> bytes:
    with time_machine.travel(SIGNED_AT, tick=False):
        return _signer(keys_dir).sign(unsigned)


@pytest.fixture(scope="module")
def foreign_signer(tmp_path_factory: pytest.TempPathFactory) -> DepartmentSigner:
    """A look-alike PKI with the same names but keys Sanad never trusted."""
    other = tmp_path_factory.mktemp("foreign-pki")
    init_pki(other, now=PKI_EPOCH)
    return _signer(other)


def reasons(pdf: bytes, trust: TrustAnchors, moment: datetime = CHECKED_AT) -> set[Reason]:
    return {f.reason for f in check_signature(pdf, trust, moment=moment).findings}


def test_genuine_document_passes_every_rule(signed: bytes, trust: TrustAnchors) -> None:
    check = check_signature(signed, trust, moment=CHECKED_AT)

    assert check.passed, check.findings
    assert check.signer_department == "REV"
    assert check.signed_at is not None
    assert check.signed_at.startswith("2026-03-01")


def test_flipped_byte_in_signed_content_is_a_digest_mismatch(signed: bytes, trust: TrustAnchors) -> None:
    tampered = bytearray(signed)
    position = content_byte(signed)
    tampered[position] ^= 0x01

    assert reasons(bytes(tampered), trust) == {Reason.DIGEST_MISMATCH}


def _append_update(pdf: bytes, change: str) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if change == "page":
        forged = generic.StreamObject(stream_data=b"BT /F1 36 Tf 72 400 Td (Annual income: Rs 9,99,999) Tj ET")
        writer.add_stream_to_page(0, writer.add_object(forged))
    else:
        writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("Forged")}))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_appended_update_changing_page_content_fails(signed: bytes, trust: TrustAnchors) -> None:
    found = reasons(_append_update(signed, "page"), trust)

    assert Reason.NOT_ENTIRE_FILE in found
    assert Reason.MODIFIED_AFTER_SIGNING in found


def test_appended_update_touching_only_metadata_fails(signed: bytes, trust: TrustAnchors) -> None:
    # pyHanko tolerates /Info-only updates; a certified "no changes" document must not.
    assert Reason.NOT_ENTIRE_FILE in reasons(_append_update(signed, "info"), trust)


def test_trailing_bytes_after_eof_fail(signed: bytes, trust: TrustAnchors) -> None:
    assert reasons(signed + b"\n% appended\n", trust) == {Reason.NOT_ENTIRE_FILE}


def test_stripped_signature_is_reported(signed: bytes, unsigned: bytes, trust: TrustAnchors) -> None:
    assert signed.startswith(unsigned)

    assert reasons(unsigned, trust) == {Reason.NO_SIGNATURE}


def test_broken_byte_range_fails(signed: bytes, trust: TrustAnchors) -> None:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert match is not None
    start, length = match.span(4)
    shorter = str(int(match.group(4)) - 100).rjust(length - start).encode()
    tampered = signed[:start] + shorter + signed[length:]
    assert len(tampered) == len(signed)

    found = reasons(tampered, trust)

    assert found
    assert found & {Reason.NOT_ENTIRE_FILE, Reason.DIGEST_MISMATCH, Reason.FORMAT_FAILURE}


def test_zeroed_signature_contents_fail(signed: bytes, trust: TrustAnchors) -> None:
    match = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed)
    assert match is not None
    start, end = match.span(1)
    tampered = signed[:start] + b"0" * (end - start) + signed[end:]

    assert reasons(tampered, trust) == {Reason.FORMAT_FAILURE}


def test_corrupted_signature_value_fails(signed: bytes, trust: TrustAnchors) -> None:
    match = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed)
    assert match is not None
    # The blob is DER followed by zero padding; damage the last bytes of the DER,
    # which hold the ECDSA signature value.
    der_end = match.start(1) + len(match.group(1).rstrip(b"0"))
    der_end += der_end % 2
    position = der_end - 10
    flipped = b"0" if signed[position : position + 1] != b"0" else b"1"
    tampered = signed[:position] + flipped + signed[position + 1 :]

    found = reasons(tampered, trust)

    assert found & {Reason.SIGNATURE_INVALID, Reason.FORMAT_FAILURE}


def test_resigned_by_a_key_outside_our_pki_fails(
    unsigned: bytes, trust: TrustAnchors, foreign_signer: DepartmentSigner
) -> None:
    with time_machine.travel(SIGNED_AT, tick=False):
        forged = foreign_signer.sign(unsigned)

    assert reasons(forged, trust) == {Reason.UNTRUSTED_SIGNER}


def _approval_sign(pdf: bytes, signer: DepartmentSigner, field: str) -> bytes:
    """An approval (non-certifying) signature, as an attacker's tool would add."""
    out = BytesIO()
    with time_machine.travel(SIGNED_AT, tick=False):
        signers.PdfSigner(
            signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES),
            signer=signer._signer,
        ).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), output=out)
    return out.getvalue()


def test_approval_signature_instead_of_certification_fails(
    unsigned: bytes, trust: TrustAnchors, keys_dir: Path
) -> None:
    approved = _approval_sign(unsigned, _signer(keys_dir), "Signature")

    assert reasons(approved, trust) == {Reason.NOT_CERTIFIED}


def test_second_signature_appended_fails(
    unsigned: bytes, trust: TrustAnchors, keys_dir: Path, foreign_signer: DepartmentSigner
) -> None:
    approved = _approval_sign(unsigned, _signer(keys_dir), "Signature")
    twice = _approval_sign(approved, foreign_signer, "Second")

    assert reasons(twice, trust) == {Reason.MULTIPLE_SIGNATURES}


def test_validation_after_the_signer_certificate_expired_is_not_trusted(signed: bytes, trust: TrustAnchors) -> None:
    # B-B carries no timestamp, so after expiry nothing proves when it was signed.
    assert reasons(signed, trust, moment=datetime(2030, 1, 1, tzinfo=UTC)) == {Reason.SIGNER_CERT_EXPIRED}


@pytest.mark.parametrize("garbage", [b"", b"%PDF-1.7\n", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF", b"\x00" * 200])
def test_garbage_is_a_format_failure_not_an_exception(garbage: bytes, trust: TrustAnchors) -> None:
    found = reasons(garbage, trust)

    assert found <= {Reason.FORMAT_FAILURE, Reason.NO_SIGNATURE}
    assert found
