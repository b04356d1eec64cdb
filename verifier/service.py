"""Verdicts: the signature checks combined with the registry's record of the document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from issuer import service as issuer_service
from issuer.service import PublicRecord
from sanad.errors import BadRequest
from sanad.ids import sha256_hex
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import SUB_INDICATIONS, Finding, Indication, Reason

# A registry status that keeps an intact, trusted document from passing.
_STATUS_FINDINGS = {
    "revoked": (Indication.TOTAL_FAILED, Reason.REVOKED, "the issuer revoked this document"),
    "superseded": (Indication.INDETERMINATE, Reason.SUPERSEDED, "a newer version of this document was issued"),
    "expired": (Indication.INDETERMINATE, Reason.EXPIRED, "the document's validity period has ended"),
}


@dataclass(frozen=True)
class Verdict:
    indication: Indication
    reasons: tuple[Finding, ...]
    document: PublicRecord | None

    @property
    def sub_indication(self) -> str | None:
        return SUB_INDICATIONS[self.reasons[0].reason] if self.reasons else None


def require_pdf(data: bytes) -> None:
    """Refuse what is not a complete PDF file before any parsing (HTTP 400)."""
    if not data:
        raise BadRequest("the uploaded file is empty")
    if b"%PDF-" not in data[:1024]:
        raise BadRequest("the uploaded file is not a PDF")
    if b"%%EOF" not in data[-2048:]:
        raise BadRequest("the PDF is truncated: it has no end-of-file marker")


def verify_pdf(session: Session, trust: TrustAnchors, pdf: bytes, *, moment: datetime | None = None) -> Verdict:
    require_pdf(pdf)
    check = check_signature(pdf, trust, moment=moment)
    record = issuer_service.public_record_by_sha256(session, sha256_hex(pdf))
    if not check.passed:
        return Verdict(Indication.TOTAL_FAILED, tuple(check.findings), record)
    if record is None:
        finding = Finding(Reason.NOT_IN_REGISTRY, "the signature is valid but Sanad's registry has no such file")
        return Verdict(Indication.INDETERMINATE, (finding,), None)
    if check.signer_department != record.issuer_code:
        finding = Finding(Reason.SIGNER_MISMATCH, "the document was not signed by the department that issued it")
        return Verdict(Indication.TOTAL_FAILED, (finding,), record)
    status_finding = _STATUS_FINDINGS.get(record.status)
    if status_finding is not None:
        indication, reason, message = status_finding
        return Verdict(indication, (Finding(reason, message),), record)
    return Verdict(Indication.TOTAL_PASSED, (), record)
