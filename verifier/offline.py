"""Offline verdicts: a QR code's seal, or a PDF, judged against a cached trust bundle
(``verifier.bundle``) without any network.

The status list counts only if the status key signed it. A snapshot past its ``exp`` is
stale: it is reported as such and never vouches that a document is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from issuer.seal import SealClaims, document_id_in_url, seal_from_text
from sanad.clock import today_in_india
from sanad.jws import JwsError, parse_compact
from verifier.bundle import TrustBundle
from verifier.pdf import check_signature
from verifier.pdf_seal import ATTACHMENT_NAME, read_seal_and_attachment
from verifier.seal_check import INDETERMINATE_REASONS, seal_key_id, verify_seal
from verifier.status_list import TYP as STATUS_LIST_TYP
from verifier.status_list import (
    Status,
    StatusListInvalid,
    StatusListReason,
    VerifiedStatusList,
    verify_snapshot,
)
from verifier.trust import iso
from verifier.verdict import Indication


class OfflineReason(StrEnum):
    """Offline reasons beyond the seal's (``SealReason``), the status list's
    (``StatusListReason``) and the PDF signature's (``verifier.verdict.Reason``)."""

    NO_SEAL = "NO_SEAL"
    """Neither a seal in the text nor a sealed link in the PDF (issued before seals)."""
    SEAL_DATA_MISMATCH = "SEAL_DATA_MISMATCH"
    """The PDF's certificate.json is not the data the seal was made for."""
    SEAL_ID_MISMATCH = "SEAL_ID_MISMATCH"
    """The URL's document id is not the one in its seal."""
    ATTACHMENT_MISSING = "ATTACHMENT_MISSING"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    STATUS_LIST_MISSING = "STATUS_LIST_MISSING"
    STATUS_LIST_STALE = "STATUS_LIST_STALE"
    STATUS_INDEX_OUT_OF_RANGE = "STATUS_INDEX_OUT_OF_RANGE"


_INDETERMINATE = frozenset(
    {
        *INDETERMINATE_REASONS,
        OfflineReason.NO_SEAL,
        OfflineReason.SUPERSEDED,
        OfflineReason.SUSPENDED,
        OfflineReason.EXPIRED,
        OfflineReason.STATUS_LIST_MISSING,
        OfflineReason.STATUS_LIST_STALE,
        OfflineReason.STATUS_INDEX_OUT_OF_RANGE,
        *StatusListReason,
    }
)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class StatusListState:
    state: str
    """current, stale, missing or invalid."""
    expires_at: datetime | None = None

    def describe(self) -> str:
        if self.state == "current" and self.expires_at is not None:
            return f"status list: current until {iso(self.expires_at)}"
        if self.state == "stale" and self.expires_at is not None:
            return f"status list: STALE since {iso(self.expires_at)}; run 'sanad trust fetch'"
        return f"status list: {self.state.upper()}; run 'sanad trust fetch'"


@dataclass(frozen=True)
class OfflineVerdict:
    indication: Indication
    findings: tuple[Finding, ...]
    claims: SealClaims | None
    status_list: StatusListState
    document_status: str | None = None
    """valid, revoked, superseded, suspended, or None when the list could not say."""

    def report(self) -> list[str]:
        lines = [self.indication.value]
        if self.claims is not None:
            c = self.claims
            lines.append(f"document: {c.document_id} ({c.type}), department {c.department}")
            shortened = "… (shortened in the seal; compare the start)" if c.holder_name_shortened else ""
            lines.append(f"holder: {c.holder_name}{shortened}")
            until = c.valid_until.isoformat() if c.valid_until else "no expiry"
            lines.append(f"issued: {c.issued_on.isoformat()}, valid until: {until}")
        if self.document_status is not None:
            lines.append(f"status: {self.document_status}")
        lines.extend(f"reason: {f.code}: {f.message}" for f in self.findings)
        lines.append(self.status_list.describe())
        return lines


@dataclass
class _Collector:
    findings: list[Finding] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        self.findings.append(Finding(str(code), message))

    def indication(self) -> Indication:
        if any(f.code not in _INDETERMINATE for f in self.findings):
            return Indication.TOTAL_FAILED
        return Indication.INDETERMINATE if self.findings else Indication.TOTAL_PASSED


def _status_list(
    bundle: TrustBundle, jwks: Mapping[str, Any], now: datetime, out: _Collector
) -> tuple[StatusListState, VerifiedStatusList | None]:
    if bundle.status_list is None:
        out.add(OfflineReason.STATUS_LIST_MISSING, "the trust bundle has no status list")
        return StatusListState("missing"), None
    try:
        verified = verify_snapshot(bundle.status_list, jwks)
    except StatusListInvalid as e:
        out.add(e.reason, e.message)
        return StatusListState("invalid"), None
    freshness = verified.freshness(now)
    if not freshness.current:
        out.add(
            OfflineReason.STATUS_LIST_STALE,
            f"the cached status list expired at {iso(freshness.expires_at)}: it cannot show the document is in force",
        )
        return StatusListState("stale", freshness.expires_at), verified
    return StatusListState("current", freshness.expires_at), verified


_STATUS_FINDINGS = {
    Status.REVOKED: (OfflineReason.REVOKED, "revoked", "the issuer revoked this document"),
    Status.SUPERSEDED: (OfflineReason.SUPERSEDED, "superseded", "a newer version of this document was issued"),
    Status.SUSPENDED: (OfflineReason.SUSPENDED, "suspended", "the document is suspended"),
}


def _judge_seal(
    seal: str, bundle: TrustBundle, now: datetime, out: _Collector
) -> tuple[SealClaims | None, StatusListState, str | None]:
    # Only the two keys this check can use are chained to the anchors (see trusted_jwks).
    jwks = bundle.trusted_jwks(only={seal_key_id(seal), _status_key_id(bundle.status_list)})
    check = verify_seal(seal, jwks, revocations=bundle.revocations())
    for seal_finding in check.findings:
        out.add(seal_finding.reason, seal_finding.message)
    state, verified = _status_list(bundle, jwks, now, out)
    claims = check.claims
    if claims is None:
        return None, state, None
    if claims.valid_until is not None and claims.valid_until < today_in_india(now):
        out.add(OfflineReason.EXPIRED, f"the document's validity ended on {claims.valid_until.isoformat()}")
    document_status = None
    if verified is not None:
        value = verified.statuses.status(claims.status_index)
        if value is None:
            out.add(OfflineReason.STATUS_INDEX_OUT_OF_RANGE, "the status list has no entry for this document")
        elif value in _STATUS_FINDINGS:
            reason, document_status, message = _STATUS_FINDINGS[Status(value)]
            out.add(reason, message)  # a stale list may still prove a revocation
        elif state.state == "current":
            document_status = "valid"
    return claims, state, document_status


def _status_key_id(token: str | None) -> str | None:
    """The key id a status-list snapshot names, if it can be read at all."""
    try:
        return parse_compact(token, typ=STATUS_LIST_TYP).kid if token else None
    except JwsError:
        return None


def verify_seal_offline(text: str, bundle: TrustBundle, *, now: datetime | None = None) -> OfflineVerdict:
    """A verdict on what a QR code scanned to: the sealed URL, or the bare seal."""
    now = now or datetime.now(UTC)
    out = _Collector()
    seal = seal_from_text(text)
    if seal is None:
        out.add(OfflineReason.NO_SEAL, "the text carries no seal (a URL ending in #<seal>)")
        return OfflineVerdict(out.indication(), tuple(out.findings), None, StatusListState("missing"))
    claims, state, document_status = _judge_seal(seal, bundle, now, out)
    url_id = document_id_in_url(text)
    if claims is not None and url_id is not None and url_id != claims.document_id:
        out.add(OfflineReason.SEAL_ID_MISMATCH, f"the URL names document {url_id}, the seal {claims.document_id}")
    return OfflineVerdict(out.indication(), tuple(out.findings), claims, state, document_status)


def verify_pdf_offline(pdf: bytes, bundle: TrustBundle, *, now: datetime | None = None) -> OfflineVerdict:
    """A verdict on a PDF: its signature against the bundle's anchors, then its seal (the
    QR code's link) against its attached data and the cached status list."""
    now = now or datetime.now(UTC)
    out = _Collector()
    check = check_signature(pdf, bundle.anchors(), moment=now)
    for pdf_finding in check.findings:
        out.add(pdf_finding.reason, pdf_finding.message)
    seal, attachment = read_seal_and_attachment(pdf)
    if seal is None:
        out.add(OfflineReason.NO_SEAL, "the PDF has no sealed verification link (issued before seals?)")
        return OfflineVerdict(out.indication(), tuple(out.findings), None, StatusListState("missing"))
    claims, state, document_status = _judge_seal(seal, bundle, now, out)
    if claims is not None:
        if attachment is None:
            out.add(OfflineReason.ATTACHMENT_MISSING, f"the PDF has no {ATTACHMENT_NAME} to compare with the seal")
        elif not claims.covers(attachment):
            out.add(
                OfflineReason.SEAL_DATA_MISMATCH, f"the PDF's {ATTACHMENT_NAME} is not the data the seal was made for"
            )
        if check.signer_department is not None and check.signer_department != claims.department:
            out.add("SEAL_SIGNER_MISMATCH", "the PDF was signed by another department than the seal names")
    return OfflineVerdict(out.indication(), tuple(out.findings), claims, state, document_status)
