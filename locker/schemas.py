"""The locker API's request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from locker.documents import HeldDocument
from locker.models import AccessEvent, Share, Upload
from locker.sharing import share_state
from sanad.i18n import LocalizedText
from sanad.mobile import normalize_mobile
from sanad.schemas import Localized


class MobileNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mobile: str = Field(description="Indian mobile number; +91 and spaces are fine.", examples=["9876543210"])

    @field_validator("mobile")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_mobile(value)


class CodeSentRead(BaseModel):
    mobile: str = Field(description="The number, masked.")
    expires_at: datetime
    resend_after: datetime = Field(description="When another code may be requested.")


class SignInRequest(MobileNumber):
    code: str = Field(min_length=4, max_length=12, description="The code received by SMS.")


class SessionRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_at: datetime


class Department(BaseModel):
    code: str
    name: Localized


class LockerDocument(BaseModel):
    id: str
    number: str | None = Field(default=None, description="The certificate number printed on it.")
    type: str
    title: Localized | None = Field(description="The certificate's title; null if its template was retired.")
    department: Department
    status: str = Field(description="valid, expired, revoked or superseded.")
    issued_at: datetime
    valid_until: date | None
    holder_name: str
    sha256: str = Field(description="SHA-256 of the signed PDF; the download has exactly this digest.")
    size: int
    verify_url: str
    revocation_reason: str | None = None

    @classmethod
    def of(cls, held: HeldDocument, title: LocalizedText | None, verify_url: str) -> LockerDocument:
        document = held.document
        return cls(
            id=document.id,
            number=document.number,
            type=document.type,
            title=Localized.of(title) if title else None,
            department=Department(code=held.department.code, name=Localized.of(held.department_name)),
            status=held.status,
            issued_at=document.issued_at,
            valid_until=document.valid_until,
            holder_name=document.holder_name,
            sha256=document.sha256,
            size=document.size,
            verify_url=verify_url,
            revocation_reason=document.revocation_reason,
        )


class DocumentPage(BaseModel):
    items: list[LockerDocument]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class UploadRead(BaseModel):
    id: str
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    verified: Literal[False] = Field(default=False, description="Uploaded by you, not verified by any issuer.")

    @classmethod
    def of(cls, upload: Upload) -> UploadRead:
        return cls(
            id=upload.id,
            title=upload.title,
            filename=upload.filename,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            uploaded_at=upload.uploaded_at,
        )


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in_days: int = Field(default=7, ge=1, le=30, description="1 to 30 days.")
    single_use: bool = Field(default=False, description="The link stops working after one download.")
    purpose: str | None = Field(default=None, max_length=200, description='e.g. "home loan, ABC Bank".')


class ShareRead(BaseModel):
    id: str
    document_id: str
    purpose: str | None
    created_at: datetime
    expires_at: datetime
    single_use: bool
    used_at: datetime | None
    revoked_at: datetime | None
    state: str = Field(description="active, expired, revoked or used.")

    @classmethod
    def of(cls, share: Share, now: datetime) -> ShareRead:
        return cls(
            id=share.id,
            document_id=share.document_id,
            purpose=share.purpose,
            created_at=share.created_at,
            expires_at=share.expires_at,
            single_use=share.single_use,
            used_at=share.used_at,
            revoked_at=share.revoked_at,
            state=share_state(share, now),
        )


class ShareCreated(ShareRead):
    url: str = Field(description="The link to give; shown only now.")


class AccessRead(BaseModel):
    at: datetime
    document_id: str
    via: str = Field(description="share or requester.")
    action: str = Field(description="view or download.")
    share_id: str | None
    share_purpose: str | None
    requester: str | None
    ip: str
    user_agent: str

    @classmethod
    def of(cls, event: AccessEvent, purpose: str | None) -> AccessRead:
        return cls(
            at=event.at,
            document_id=event.document_id,
            via=event.via,
            action=event.action,
            share_id=event.share_id,
            share_purpose=purpose,
            requester=event.requester,
            ip=event.ip,
            user_agent=event.user_agent,
        )


class SharedDocument(BaseModel):
    """What a share link's recipient sees: the document and its live status."""

    document: LockerDocument
    expires_at: datetime
    single_use: bool
    content_url: str
