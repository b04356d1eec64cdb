"""The issuing API's request and response bodies: the contract integrators build on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Template type, e.g. `income-certificate`.", examples=["income-certificate"])
    citizen_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The department's identifier of the holder (letters, digits, '.', '_', '-').",
    )
    data: dict[str, Any] = Field(description="The template's fields; see the template's metadata.")
    valid_until: date | None = Field(
        default=None, description="Last day of validity; defaults to the template's validity period."
    )


class DocumentRead(BaseModel):
    id: str
    type: str
    status: str = Field(description="issued, revoked, expired or superseded.")
    sha256: str = Field(description="SHA-256 of the signed PDF, hex.")
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
