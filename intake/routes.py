"""Every page router of the intake domain, for the app factory to include (the API's
router is ``intake.endpoints.router``)."""

from __future__ import annotations

from fastapi import APIRouter

from intake import (
    batches_desk,
    views_appeals,
    views_applications,
    views_apply,
    views_desk,
    views_desk_apply,
    views_email,
    views_pendency,
)

routers: list[APIRouter] = [
    views_apply.router,
    views_applications.router,
    views_desk.router,
    views_desk_apply.router,
    views_pendency.router,
    views_email.router,
    batches_desk.router,
    views_appeals.router,
]
