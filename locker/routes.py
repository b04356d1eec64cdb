"""Every router of the locker domain, for the app factory to include."""

from __future__ import annotations

from fastapi import APIRouter

from locker import endpoints, views

routers: list[APIRouter] = [
    endpoints.router,
    endpoints.public_router,
    views.router,
]
