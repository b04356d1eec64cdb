"""Bodies of the requester API and of the citizen's list of connected requesters."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from locker.requesters import ConnectedRequester


class GrantRead(BaseModel):
    """A requester that can read some of your documents now, or will once it collects the
    code your consent gave it (``pending``)."""

    id: str = Field(description="Withdraw it with `DELETE /api/v1/locker/grants/{id}`.")
    client_id: str
    name: str = Field(description="The requester's registered name, e.g. ABC Bank.")
    types: list[str] = Field(description="The document types you allowed it to read.")
    granted_at: datetime
    expires_at: datetime = Field(
        description="When its access ends unless you withdraw it sooner; if pending, when the code it has not "
        "exchanged yet stops working."
    )
    pending: bool = Field(
        description="You allowed it, and it has not exchanged its code for access yet. Withdraw it to void the code."
    )

    @classmethod
    def of(cls, connected: ConnectedRequester) -> GrantRead:
        return cls(
            id=connected.grant_id,
            client_id=connected.client_id,
            name=connected.name,
            types=connected.document_types,
            granted_at=connected.granted_at,
            expires_at=connected.expires_at,
            pending=connected.pending,
        )
