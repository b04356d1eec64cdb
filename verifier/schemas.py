"""Public verification answers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from issuer.service import PublicRecord
from verifier.service import Verdict, status_finding
from verifier.verdict import Reason


class LocalizedName(BaseModel):
    en: str
    pa: str
    hi: str


class Issuer(BaseModel):
    code: str
    name: LocalizedName


class PublicDocument(BaseModel):
    id: str
    number: str | None = Field(
        default=None, description="The certificate number printed on it, e.g. PB-REV-INC-C-2026-000123."
    )
    type: str
    status: str = Field(description="valid, revoked, expired, superseded or suspended.")
    issuer: Issuer
    issued_at: datetime
    valid_until: date | None
    holder: str = Field(description="The holder's name, masked.")
    revocation_reason: str | None = None
    signature_level: str | None = Field(
        default=None,
        description="PAdES level of the stored file: B-B, B-T, B-LT or B-LTA. B-T under a long-term "
        "deployment means its revocation data is still to come (added by the archive job).",
    )
    version: int = 1
    superseded_by: str | None = Field(default=None, description="Superseded: the id of the newer version.")
    superseded_by_url: str | None = Field(default=None, description="Superseded: the newer version's QR page.")
    suspension_reason: str | None = Field(default=None, description="Suspended: the issuer's reason code.")

    @classmethod
    def of(cls, record: PublicRecord) -> PublicDocument:
        return cls(
            id=record.id,
            number=record.number,
            type=record.type,
            status=public_status(record.status),
            issuer=Issuer(
                code=record.issuer_code,
                name=LocalizedName(en=record.issuer_name.en, pa=record.issuer_name.pa, hi=record.issuer_name.hi),
            ),
            issued_at=record.issued_at,
            valid_until=record.valid_until,
            holder=record.holder,
            revocation_reason=record.revocation_reason,
            signature_level=record.signature_level,
            version=record.version,
            superseded_by=record.superseded_by,
            superseded_by_url=f"/v/{record.superseded_by}" if record.superseded_by else None,
            suspension_reason=record.suspension_reason,
        )


def public_status(registry_status: str) -> str:
    return "valid" if registry_status == "issued" else registry_status


class ReasonOut(BaseModel):
    code: str
    message: str


class LookupResult(BaseModel):
    """What the QR code's page says about a document id."""

    status: str = Field(description="valid, revoked, expired, superseded, suspended or unknown.")
    in_force: bool = Field(default=False, description="True only when `status` is valid.")
    reason: ReasonOut | None = Field(
        default=None,
        description="Why it is not in force: REVOKED, EXPIRED, SUPERSEDED, SUSPENDED or NOT_IN_REGISTRY; "
        "null when valid.",
    )
    document: PublicDocument | None

    @classmethod
    def of(cls, record: PublicRecord | None) -> LookupResult:
        if record is None:
            reason = ReasonOut(code=Reason.NOT_IN_REGISTRY, message="Sanad's registry has no document with this id")
            return cls(status="unknown", reason=reason, document=None)
        finding = status_finding(record.status)
        return cls(
            status=public_status(record.status),
            in_force=finding is None,
            reason=None if finding is None else ReasonOut(code=finding.reason, message=finding.message),
            document=PublicDocument.of(record),
        )


class SignatureOut(BaseModel):
    """One signature or archival document timestamp in the file, oldest first."""

    kind: str = Field(description="signature or document-timestamp.")
    field_name: str | None
    level: str | None = Field(description="For the signature: the PAdES level reached, B-B, B-T, B-LT or B-LTA.")
    signer: str
    claimed_signing_time: str | None = Field(description="The signer's own clock; proves nothing alone.")
    timestamp_time: str | None = Field(description="The time a time-stamping authority vouched for.")
    timestamp_authority: str | None
    chain: list[str] = Field(description="Certificate subjects from the signer up to the trust anchor.")
    revocation: str = Field(description="good, revoked or unknown.")
    coverage: str = Field(description="entire-file, entire-revision (archival revisions follow) or partial.")
    modifications: str = Field(description="none, lta-updates (DSS and timestamps only), or worse.")


class VerificationResult(BaseModel):
    """The verdict on an uploaded PDF. Only TOTAL_PASSED means: genuine, unaltered and in force."""

    indication: str = Field(description="TOTAL_PASSED, TOTAL_FAILED or INDETERMINATE.")
    sub_indication: str | None = Field(description="ETSI EN 319 102-1 sub-indication, when not passed.")
    reasons: list[ReasonOut]
    document: PublicDocument | None
    level: str | None = Field(default=None, description="PAdES level the signature reached.")
    signatures: list[SignatureOut] = Field(default_factory=list)

    @classmethod
    def of(cls, verdict: Verdict) -> VerificationResult:
        check = verdict.check
        return cls(
            indication=verdict.indication,
            sub_indication=verdict.sub_indication,
            reasons=[ReasonOut(code=f.reason, message=f.message) for f in verdict.reasons],
            document=PublicDocument.of(verdict.document) if verdict.document else None,
            level=check.level if check else None,
            signatures=[
                SignatureOut(
                    kind=r.kind,
                    field_name=r.field_name,
                    level=r.level,
                    signer=r.signer,
                    claimed_signing_time=r.claimed_signing_time,
                    timestamp_time=r.timestamp_time,
                    timestamp_authority=r.timestamp_authority,
                    chain=r.chain,
                    revocation=r.revocation,
                    coverage=r.coverage,
                    modifications=r.modifications,
                )
                for r in (check.reports if check else [])
            ],
        )
