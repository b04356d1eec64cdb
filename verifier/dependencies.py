"""What the verifier's endpoints are given: trust anchors and the published trust material."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends

from sanad.dependencies import Runtime, get_context

if TYPE_CHECKING:
    from verifier.lookup_cache import LookupCache
    from verifier.pdf import TrustAnchors
    from verifier.trust import TrustPublisher


class VerifierContext(Runtime, Protocol):
    trust: TrustAnchors
    trust_publisher: TrustPublisher
    lookups: LookupCache


Context = Annotated[VerifierContext, Depends(get_context)]
