"""Request bodies of the lifecycle API (answers are ``DocumentRead``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SupersedeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(description="The corrected fields: all of them, as when issuing.")
    valid_until: date | None = Field(
        default=None, description="Last day of validity; defaults to the template's validity period from today."
    )
    reason: str = Field(min_length=3, max_length=500, description="What was corrected and why; kept in the audit log.")


class RenewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_until: date | None = Field(
        default=None,
        description="The new last day of validity, later than the current one; defaults to the template's "
        "validity period from today.",
    )


class SuspendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=32, description="under_investigation, court_order, data_error_reported or other.")
    note: str | None = Field(
        default=None, min_length=3, max_length=500, description="Free text; required with reason `other`."
    )


class ReinstateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, min_length=3, max_length=500, description="Kept in the audit log.")
