"""What the bulk issuing endpoints are given: the issuer's kit and the job queue."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends

from issuer.dependencies import IssuerContext
from sanad.dependencies import get_context
from sanad.jobs import JobQueue


class BatchesContext(IssuerContext, Protocol):
    jobs: JobQueue


BatchContext = Annotated[BatchesContext, Depends(get_context)]
