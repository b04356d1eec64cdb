"""The verifier's answer: an ETSI-style indication, a sub-indication and reason codes.

Indications follow ETSI EN 319 102-1 (TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE);
reason codes are Sanad's own, stable strings a machine can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Indication(StrEnum):
    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class Reason(StrEnum):
    """Why a document did not pass, each with the ETSI sub-indication it maps to."""

    FORMAT_FAILURE = "FORMAT_FAILURE"
    NO_SIGNATURE = "NO_SIGNATURE"
    MULTIPLE_SIGNATURES = "MULTIPLE_SIGNATURES"
    DIGEST_MISMATCH = "DIGEST_MISMATCH"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    UNTRUSTED_SIGNER = "UNTRUSTED_SIGNER"
    NOT_ENTIRE_FILE = "NOT_ENTIRE_FILE"
    MODIFIED_AFTER_SIGNING = "MODIFIED_AFTER_SIGNING"
    NOT_CERTIFIED = "NOT_CERTIFIED"
    NOT_IN_REGISTRY = "NOT_IN_REGISTRY"
    SIGNER_MISMATCH = "SIGNER_MISMATCH"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"
    SUSPENDED = "SUSPENDED"
    SIGNER_REVOKED = "SIGNER_REVOKED"
    SIGNER_CERT_EXPIRED = "SIGNER_CERT_EXPIRED"
    REVOCATION_UNKNOWN = "REVOCATION_UNKNOWN"
    TIMESTAMP_UNTRUSTED = "TIMESTAMP_UNTRUSTED"


SUB_INDICATIONS: dict[Reason, str] = {
    Reason.FORMAT_FAILURE: "FORMAT_FAILURE",
    Reason.NO_SIGNATURE: "FORMAT_FAILURE",
    Reason.MULTIPLE_SIGNATURES: "FORMAT_FAILURE",
    Reason.DIGEST_MISMATCH: "HASH_FAILURE",
    Reason.SIGNATURE_INVALID: "SIG_CRYPTO_FAILURE",
    Reason.UNTRUSTED_SIGNER: "NO_CERTIFICATE_CHAIN_FOUND",
    Reason.NOT_ENTIRE_FILE: "HASH_FAILURE",
    Reason.MODIFIED_AFTER_SIGNING: "HASH_FAILURE",
    Reason.NOT_CERTIFIED: "SIG_CONSTRAINTS_FAILURE",
    Reason.NOT_IN_REGISTRY: "SIGNED_DATA_NOT_FOUND",
    Reason.SIGNER_MISMATCH: "SIG_CONSTRAINTS_FAILURE",
    Reason.REVOKED: "REVOKED",
    Reason.EXPIRED: "EXPIRED",
    Reason.SUPERSEDED: "SUPERSEDED",
    # ETSI has no suspension: like a certificate on hold, it may be lifted, so try later.
    Reason.SUSPENDED: "TRY_LATER",
    Reason.SIGNER_REVOKED: "REVOKED",
    Reason.SIGNER_CERT_EXPIRED: "OUT_OF_BOUNDS_NO_POE",
    Reason.REVOCATION_UNKNOWN: "TRY_LATER",
    Reason.TIMESTAMP_UNTRUSTED: "NO_CERTIFICATE_CHAIN_FOUND",
}

#: Findings that leave the question open (ETSI INDETERMINATE): more evidence, a trusted
#: timestamp or fresh revocation data could still settle it. Every other finding fails.
INDETERMINATE_REASONS = frozenset({Reason.SIGNER_CERT_EXPIRED, Reason.REVOCATION_UNKNOWN, Reason.TIMESTAMP_UNTRUSTED})


@dataclass(frozen=True)
class Finding:
    reason: Reason
    message: str


@dataclass
class SignatureReport:
    """One signature or document timestamp, as a verifier's report describes it."""

    kind: str
    """``signature`` or ``document-timestamp``."""
    field_name: str | None
    signer: str
    level: str | None = None
    """PAdES baseline level the signature reached: B-B, B-T, B-LT or B-LTA."""
    claimed_signing_time: str | None = None
    """The signer's own clock (not proof of anything)."""
    timestamp_time: str | None = None
    """The time a trusted (or, if reported failed, untrusted) TSA vouched for."""
    timestamp_authority: str | None = None
    chain: list[str] = field(default_factory=list)
    """Subjects from the signer's certificate up to the trust anchor."""
    revocation: str = "unknown"
    """good, revoked or unknown."""
    coverage: str = "unknown"
    """entire-file, entire-revision (later revisions follow) or partial."""
    modifications: str = "none"
    """What diff analysis found after this signature: none, lta-updates (DSS and
    timestamps only) or worse."""
    indication: str = "PASSED"


@dataclass
class SignatureCheck:
    """What the signature and the file's structure say, before the registry is asked."""

    findings: list[Finding] = field(default_factory=list)
    signer_subject: str | None = None
    signer_department: str | None = None
    """The OU of the signing certificate: the department code in Sanad's PKI."""
    signed_at: str | None = None
    level: str | None = None
    signed_revision_end: int | None = None
    """Offset where the certified revision ends: the file up to here is what was signed."""
    reports: list[SignatureReport] = field(default_factory=list)
    certificates: tuple[bytes, ...] = ()
    """DER of the certificates the signatures carry: whose current revocation data the
    check asked for, so a kept check is reused only while that data is unchanged."""

    @property
    def passed(self) -> bool:
        return not self.findings
