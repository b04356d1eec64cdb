"""The issuing API's request and response bodies: the contract integrators build on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sanad.mobile import normalize_mobile
from sanad.text import UnsafeText, clean_text


def _printable_line(value: str) -> str:
    """One line of text as printed: NFC, single spaces, nothing invisible or controlling."""
    try:
        cleaned = " ".join(clean_text(value).split())
    except UnsafeText as unsafe:
        raise ValueError(str(unsafe)) from None
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


class Bilingual(BaseModel):
    """A value printed in English and, when given, in Punjabi (Gurmukhi) above it."""

    model_config = ConfigDict(extra="forbid")

    en: str = Field(min_length=1, max_length=120, examples=["Tehsil Office, Samrala"])
    pa: str | None = Field(default=None, min_length=1, max_length=120, examples=["ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ"])

    @field_validator("en", "pa")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else _printable_line(value)


#: A name or title as the certificate prints it on one line.
PrintedLine = Annotated[str, Field(min_length=1, max_length=120)]


class IssuedBy(BaseModel):
    """The office and officer the certificate names as issuing it."""

    model_config = ConfigDict(extra="forbid")

    office: PrintedLine | Bilingual = Field(
        description="The issuing office: a name, or `{en, pa}` to print it in both languages.",
        examples=[{"en": "Tehsil Office, Samrala", "pa": "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ"}],
    )
    officer: str | None = Field(
        default=None, min_length=1, max_length=120, description="The officer's name.", examples=["Harpreet Kaur"]
    )
    designation: PrintedLine | Bilingual | None = Field(
        default=None,
        description="The officer's designation: a title, or `{en, pa}`.",
        examples=[{"en": "Tehsildar", "pa": "ਤਹਿਸੀਲਦਾਰ"}],
    )

    @field_validator("office", "officer", "designation")
    @classmethod
    def _one_line(cls, value: str | Bilingual | None) -> str | Bilingual | None:
        return _printable_line(value) if isinstance(value, str) else value

    def printed(self) -> dict[str, object]:
        """As stored, attached and printed: every text as ``{en, pa}`` (``pa`` absent when
        not given), the officer's name as it is."""

        def both(value: str | Bilingual | None) -> dict[str, str] | None:
            if value is None:
                return None
            if isinstance(value, str):
                return {"en": value}
            return {"en": value.en, **({"pa": value.pa} if value.pa else {})}

        shown = {"office": both(self.office), "officer": self.officer, "designation": both(self.designation)}
        return {key: value for key, value in shown.items() if value is not None}


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Template type, e.g. `income-certificate`.", examples=["income-certificate"])
    citizen_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Your department's identifier of the holder (letters, digits, '.', '_', '-'). Ids are "
        "your department's own: another department's citizen with the same id is another person to Sanad. "
        "Ids beginning with `sanad.` are reserved for certificates Sanad issues on approved applications.",
    )
    citizen_mobile: str | None = Field(
        default=None,
        description="The holder's mobile number, for this document. It appears in the locker of whoever proves "
        "this number with a one-time code, and in no other; without a number it reaches no locker. A number "
        "different from the one your previous request named for this citizen id is issued as asked, with a "
        "`holder_mobile_changed` warning in the response.",
        examples=["9876543210"],
    )
    data: dict[str, Any] = Field(description="The template's fields; see the template's metadata.")
    valid_until: date | None = Field(
        default=None, description="Last day of validity; defaults to the template's validity period."
    )
    issued_by: IssuedBy | None = Field(
        default=None,
        description="The office and officer printed as issuing the certificate; without it, your department's name.",
    )

    @field_validator("citizen_mobile")
    @classmethod
    def _normalize_mobile(cls, value: str | None) -> str | None:
        return None if value is None else normalize_mobile(value)


class IssueWarning(BaseModel):
    """Something the issuer should know about a document it issued; the document was issued."""

    code: str = Field(description="`holder_mobile_changed` or `no_holder_mobile`.")
    detail: str = Field(description="What happened and what to do, for a person.")


class DocumentRead(BaseModel):
    id: str = Field(description="Random and unguessable: what the QR code and `verify_url` carry.")
    number: str | None = Field(
        default=None,
        description="The certificate number printed on it, for people to read and say, e.g. "
        "`PB-REV-INC-C-2026-000123`: state, department, type, C for certificate, year of issue, serial. Search with "
        "`GET /api/v1/documents?number=`.",
    )
    type: str
    status: str = Field(description="issued, revoked, expired, superseded or suspended.")
    sha256: str = Field(description="SHA-256 of the PDF as stored today, hex (archival timestamps change it).")
    signed_sha256: str = Field(description="SHA-256 of the file up to the end of the department's signed revision.")
    signature_level: str | None = Field(description="PAdES level it is issued at: B-B, B-T, B-LT or B-LTA.")
    long_term_pending: bool = Field(
        default=False,
        description="True while the stored file is at B-T and its long-term revision (B-LT/B-LTA) is still to be "
        "added, usually within seconds; the file verifies at B-T meanwhile, and `sha256` changes once it is added.",
    )
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
    supersedes_id: str | None = Field(default=None, description="The earlier version this one replaced.")
    superseded_by_id: str | None = Field(default=None, description="The later version that replaced this one.")
    suspension_reason: str | None = Field(default=None, description="While suspended: why.")
    holder_mobile: str | None = Field(
        default=None, description="The number whose locker this document reaches; null: no locker."
    )
    warnings: list[IssueWarning] = Field(
        default_factory=list,
        description="Facts about how the document was bound to its holder, e.g. a number that differs from "
        "your previous request's for the same citizen id.",
    )


class DocumentList(BaseModel):
    items: list[DocumentRead]


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500, description="Why the document is revoked; shown to verifiers.")


class HolderMismatchRead(BaseModel):
    """One issuing request that named another number than the one before it for a citizen."""

    document_id: str = Field(description="The document the request issued (it went to `requested_mobile`).")
    citizen_id: str
    previous_mobile: str = Field(description="The number your department had named for this citizen before.")
    requested_mobile: str
    source: str = Field(description="`issue`, or `migration` for one found in data from before binding.")
    detected_at: datetime


class HolderMismatchPage(BaseModel):
    items: list[HolderMismatchRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for older ones; null on the last page.")
