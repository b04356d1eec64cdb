"""What the DigiLocker routes need from the application context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import Depends

from sanad.dependencies import Runtime, get_context

if TYPE_CHECKING:
    from intake.applications import IntakeKit
    from issuer.service import IssuingKit


class DigilockerContext(Runtime, Protocol):
    kit: IssuingKit
    intake: IntakeKit


Context = Annotated[DigilockerContext, Depends(get_context)]
