"""Request and response bodies of the appeals API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intake.appeals_models import Appeal

AppealState = Literal["pending", "dismissed", "allowed", "escalated"]


class AppealRead(BaseModel):
    application: str = Field(description="The application's number.")
    level: int = Field(description="1: the first appellate authority; 2: the commission.")
    status: AppealState = Field(
        description="`allowed`: the authority ordered the certificate issued; `escalated`: left undecided past "
        "its time limit and taken to the commission by a second appeal."
    )
    authority: str = Field(description="The catalogue's role that hears it.")
    grounds: str
    filed_at: datetime
    due_on: date = Field(description="The last working day for the authority to decide.")
    working_days_left: int | None = Field(
        description="Working days the authority has left (negative: late); null once decided."
    )
    decided_at: datetime | None
    reasons: str | None
    penalty_inr: int | None = Field(description="A penalty recorded on the designated officer, in rupees.")
    penalty_reason: str | None
    version: int = Field(description="Send it with a decision: a different current version answers 409.")

    @classmethod
    def of(cls, appeal: Appeal, number: str, working_days_left: int | None) -> AppealRead:
        return cls(
            application=number,
            level=appeal.level,
            status=appeal.status,
            authority=appeal.authority,
            grounds=appeal.grounds,
            filed_at=appeal.filed_at,
            due_on=appeal.due_on,
            working_days_left=working_days_left,
            decided_at=appeal.decided_at,
            reasons=appeal.reasons,
            penalty_inr=appeal.penalty_inr,
            penalty_reason=appeal.penalty_reason,
            version=appeal.version,
        )


class AppealsRead(BaseModel):
    appeals: list[AppealRead]
    may_file: int | None = Field(description="The level the citizen may appeal to now, or null.")
    file_until: date | None = Field(description="The last day to file it (or the day that passed).")
    refusal: str | None = Field(description="Why no appeal can be filed now, in the requested language.")


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grounds: str = Field(max_length=2000, description="Why the rejection, or the delay, is wrong.")


class AppealDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["dismiss", "allow"] = Field(
        description="`allow` orders the certificate issued, as an officer's approval issues it."
    )
    reasons: str = Field(max_length=2000)
    penalty_inr: int | None = Field(
        default=None,
        description="A penalty on the designated officer, in whole rupees (1 to the deployment's ceiling).",
    )
    penalty_reason: str | None = Field(default=None, max_length=2000, description="Required with a penalty.")
    version: int | None = Field(default=None, description="The appeal's version you read.")
    officer_values: dict[str, Any] = Field(
        default_factory=dict,
        max_length=64,
        description="`allow` only: the service's officer fields, as an approval fills them.",
    )
