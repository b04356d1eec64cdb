"""The issuing API's request and response bodies: the contract integrators build on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sanad.mobile import normalize_mobile


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Template type, e.g. `income-certificate`.", examples=["income-certificate"])
    citizen_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The department's identifier of the holder (letters, digits, '.', '_', '-').",
    )
    citizen_mobile: str | None = Field(
        default=None,
        description="The holder's mobile number. The document appears in the locker of whoever signs in "
        "with it. Recorded on the citizen's first document; a later, different number does not replace it.",
        examples=["9876543210"],
    )
    data: dict[str, Any] = Field(description="The template's fields; see the template's metadata.")
    valid_until: date | None = Field(
        default=None, description="Last day of validity; defaults to the template's validity period."
    )

    @field_validator("citizen_mobile")
    @classmethod
    def _normalize_mobile(cls, value: str | None) -> str | None:
        return None if value is None else normalize_mobile(value)


class DocumentRead(BaseModel):
    id: str
    type: str
    status: str = Field(description="issued, revoked, expired or superseded.")
    sha256: str = Field(description="SHA-256 of the PDF as stored today, hex (archival timestamps change it).")
    signed_sha256: str = Field(description="SHA-256 of the file up to the end of the department's signed revision.")
    signature_level: str | None = Field(description="PAdES level it was signed at: B-B, B-T, B-LT or B-LTA.")
    archive_expires_at: datetime | None = Field(
        default=None, description="B-LTA: when the newest archival timestamp's TSA certificate expires."
    )
    size: int
    verify_url: str
    department: str
    issued_at: datetime
    valid_until: date | None
    version: int
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, description="Why the document is revoked; shown to verifiers.")
