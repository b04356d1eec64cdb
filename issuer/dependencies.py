"""What the issuer's endpoints are given: its kit, on top of the kernel's runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends

from sanad.dependencies import Runtime, get_context

if TYPE_CHECKING:
    from issuer.service import IssuingKit


class StatusListCache(Protocol):
    """A cached status list that must be rebuilt once a document's status changes."""

    def invalidate(self) -> None: ...


class IssuerContext(Runtime, Protocol):
    kit: IssuingKit

    @property
    def trust_publisher(self) -> StatusListCache: ...


Context = Annotated[IssuerContext, Depends(get_context)]
