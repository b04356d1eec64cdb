"""Verdicts: the signature checks combined with the registry's record of the document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from issuer import service as issuer_service
from issuer.service import PublicRecord
from sanad import metrics
from sanad.errors import BadRequest
from sanad.ids import sha256_hex
from verifier.cache import SIGNATURE_CHECKS
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import INDETERMINATE_REASONS, SUB_INDICATIONS, Finding, Indication, Reason, SignatureCheck

# A registry status that keeps an intact, trusted document from passing.
_STATUS_FINDINGS = {
    "revoked": (Indication.TOTAL_FAILED, Reason.REVOKED, "the issuer revoked this document"),
    "superseded": (Indication.INDETERMINATE, Reason.SUPERSEDED, "a newer version of this document was issued"),
    # Fails closed: not in force while suspended, though the issuer may reinstate it.
    "suspended": (Indication.INDETERMINATE, Reason.SUSPENDED, "the issuer suspended this document"),
    "expired": (Indication.INDETERMINATE, Reason.EXPIRED, "the document's validity period has ended"),
}


@dataclass(frozen=True)
class Verdict:
    indication: Indication
    reasons: tuple[Finding, ...]
    document: PublicRecord | None
    check: SignatureCheck | None = None
    """The per-signature report (absent when the file was refused before checking)."""

    @property
    def sub_indication(self) -> str | None:
        return SUB_INDICATIONS[self.reasons[0].reason] if self.reasons else None


def status_finding(registry_status: str) -> Finding | None:
    """Why a document with this registry status is not in force; None when it is."""
    found = _STATUS_FINDINGS.get(registry_status)
    return None if found is None else Finding(found[1], found[2])


def require_pdf(data: bytes) -> None:
    """Refuse what is not a complete PDF file before any parsing (HTTP 400). These checks
    read 3 KB of the file, where pyHanko would read all of it byte by byte: 20 MB of
    zeros between a PDF header and an end marker once took it 8 s of CPU."""
    if not data:
        raise BadRequest("the uploaded file is empty")
    if b"%PDF-" not in data[:1024]:
        raise BadRequest("the uploaded file is not a PDF")
    tail = data[-2048:]
    if b"%%EOF" not in tail:
        raise BadRequest("the PDF is truncated: it has no end-of-file marker")
    if b"startxref" not in tail:
        raise BadRequest("the PDF is damaged: it does not end with the position of its cross-reference table")


def verify_pdf(
    session: Session,
    trust: TrustAnchors,
    pdf: bytes,
    *,
    moment: datetime | None = None,
    check: Callable[..., SignatureCheck] = check_signature,
) -> Verdict:
    """``check`` runs the signature check: the public upload's runs in a sandbox."""
    verdict = _judge(session, trust, pdf, moment, check)
    metrics.VERIFICATIONS.labels(verdict.indication.value).inc()
    return verdict


def _judge(
    session: Session, trust: TrustAnchors, pdf: bytes, moment: datetime | None, run: Callable[..., SignatureCheck]
) -> Verdict:
    require_pdf(pdf)
    # The same file checked before is not parsed again (its registry status still is asked).
    check = SIGNATURE_CHECKS.check(pdf, trust, lambda: run(pdf, trust, moment=moment), moment=moment)
    # Archival timestamps append revisions: the registry knows the certified revision.
    signed = pdf[: check.signed_revision_end] if check.signed_revision_end else pdf
    record = issuer_service.public_record_by_signed_sha256(session, sha256_hex(signed))
    if not check.passed:
        failed = any(f.reason not in INDETERMINATE_REASONS for f in check.findings)
        indication = Indication.TOTAL_FAILED if failed else Indication.INDETERMINATE
        return Verdict(indication, tuple(check.findings), record, check)
    if record is None:
        finding = Finding(Reason.NOT_IN_REGISTRY, "the signature is valid but Sanad's registry has no such file")
        return Verdict(Indication.INDETERMINATE, (finding,), None, check)
    if check.signer_department != record.issuer_code:
        finding = Finding(Reason.SIGNER_MISMATCH, "the document was not signed by the department that issued it")
        return Verdict(Indication.TOTAL_FAILED, (finding,), record, check)
    found = _STATUS_FINDINGS.get(record.status)
    if found is not None:
        indication, reason, message = found
        return Verdict(indication, (Finding(reason, message),), record, check)
    return Verdict(Indication.TOTAL_PASSED, (), record, check)
