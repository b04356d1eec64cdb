"""Cryptographic and structural checks of an uploaded PDF. Fails closed: anything the
checks cannot explain is a finding, never a pass.

Rules (each has tamper tests): exactly one signature; intact digest; valid signature
value; a chain to our trust anchors; signer key usage non-repudiation; the signature
covers the entire file (nothing appended, not even an /Info update); a certifying
signature with DocMDP "no changes"; no modification found by pyHanko's diff analysis.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from verifier.verdict import Finding, Reason, SignatureCheck

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustAnchors:
    """Parsed once at start-up from the PEM bundle of the PKI."""

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...]

    @classmethod
    def from_pem(cls, pem: bytes) -> TrustAnchors:
        roots: list[asn1_x509.Certificate] = []
        intermediates: list[asn1_x509.Certificate] = []
        for certificate in x509.load_pem_x509_certificates(pem):
            parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
            (roots if certificate.issuer == certificate.subject else intermediates).append(parsed)
        return cls(tuple(roots), tuple(intermediates))

    def context(self, moment: datetime | None) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=list(self.intermediates),
            allow_fetching=False,
            # B-B documents carry no revocation data; revocation arrives with B-LT.
            revocation_mode="soft-fail",
            moment=moment,
        )


def check_signature(pdf: bytes, trust: TrustAnchors, *, moment: datetime | None = None) -> SignatureCheck:
    """Check ``pdf`` against every signature rule; the result lists each failure."""
    check = SignatureCheck()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=True)
        signatures = reader.embedded_signatures
    except Exception as e:  # any parse failure of untrusted input is a format failure
        check.findings.append(Finding(Reason.FORMAT_FAILURE, f"the PDF structure could not be read ({e})"))
        return check
    if not signatures:
        check.findings.append(Finding(Reason.NO_SIGNATURE, "the document carries no digital signature"))
        return check
    if len(signatures) > 1:
        check.findings.append(Finding(Reason.MULTIPLE_SIGNATURES, f"expected one signature, found {len(signatures)}"))
        return check
    signature = signatures[0]
    try:
        status = asyncio.run(async_validate_pdf_signature(signature, signer_validation_context=trust.context(moment)))
    except Exception as e:  # a malformed signature dictionary or CMS blob
        log.info("signature validation raised", exc_info=True)
        check.findings.append(Finding(Reason.FORMAT_FAILURE, f"the signature could not be processed ({e})"))
        return check
    _describe_signer(check, status)
    check.findings.extend(_findings(status, signature.docmdp_level))
    return check


def _describe_signer(check: SignatureCheck, status: PdfSignatureStatus) -> None:
    subject = status.signing_cert.subject
    check.signer_subject = subject.human_friendly
    check.signer_department = subject.native.get("organizational_unit_name")
    if status.signer_reported_dt is not None:
        check.signed_at = status.signer_reported_dt.isoformat()


def _findings(status: PdfSignatureStatus, docmdp: MDPPerm | None) -> list[Finding]:
    if not status.intact:
        return [Finding(Reason.DIGEST_MISMATCH, "the signed content was altered: its digest does not match")]
    if not status.valid:
        return [Finding(Reason.SIGNATURE_INVALID, "the signature value does not verify with the signer's key")]
    findings = []
    if not status.trusted:
        indic = status.trust_problem_indic
        problem = getattr(indic, "name", "no path to a trust anchor")
        findings.append(
            Finding(
                Reason.UNTRUSTED_SIGNER,
                f"the signer's certificate is not trusted by Sanad's trust anchors ({problem})",
            )
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        findings.append(
            Finding(Reason.NOT_ENTIRE_FILE, "the file has content outside the signed range (added after signing)")
        )
    if status.modification_level not in (None, ModificationLevel.NONE) or status.docmdp_ok is False:
        findings.append(Finding(Reason.MODIFIED_AFTER_SIGNING, "the document was changed after it was signed"))
    if docmdp != MDPPerm.NO_CHANGES:
        findings.append(Finding(Reason.NOT_CERTIFIED, "the signature is not a certification that forbids all changes"))
    return findings
