"""Every router of the DigiLocker domain, for the app factory to include."""

from __future__ import annotations

from fastapi import APIRouter

from digilocker import desk, endpoints

routers: list[APIRouter] = [endpoints.router, endpoints.apisetu_router, endpoints.pushes_router, desk.router]
