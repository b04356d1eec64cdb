"""The JSON bodies of the DigiLocker domain's own API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PushRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    document_id: str
    action: str = Field(description="A (added), D (deleted: revoked), U (updated: superseded).")
    status: str = Field(description="pending, sent, failed, or skipped (no DigiLocker account has the number).")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
