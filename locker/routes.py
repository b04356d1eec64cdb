"""Every router of the locker domain, for the app factory to include."""

from __future__ import annotations

from fastapi import APIRouter

from locker import (
    endpoints,
    oauth_endpoints,
    oauth_views,
    views,
    views_access,
    views_documents,
    views_mobile,
    views_record,
    views_shared,
    views_uploads,
)

routers: list[APIRouter] = [
    endpoints.router,
    endpoints.public_router,
    views.router,
    views_documents.router,
    views_access.router,
    views_record.router,
    views_uploads.router,
    views_mobile.router,
    views_shared.router,
    oauth_endpoints.oauth_router,
    oauth_endpoints.requester_router,
    oauth_endpoints.grants_router,
    oauth_views.router,
]
