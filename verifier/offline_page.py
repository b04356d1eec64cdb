"""The offline QR-seal checker: a static page and its service worker.

The page checks a certificate's seal in the browser, so it needs a policy wider than the
other pages' (its own script, fetching the trust list, a service worker) and nothing more.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).parent / "static" / "offline"
PAGE_PATH = "/verify/offline"

#: For pages that run the seal checker (this one and the QR page, /v/{id}).
SEAL_CHECK_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["verification"], include_in_schema=False)


@router.get(PAGE_PATH, response_class=HTMLResponse)
def offline_page() -> FileResponse:
    """The checker. The seal travels in the URL's #fragment, which never reaches us."""
    return FileResponse(
        STATIC / "index.html",
        media_type="text/html; charset=utf-8",
        # no-cache: online visits always revalidate, so the service worker saves the newest page.
        headers={"Content-Security-Policy": SEAL_CHECK_CSP, "Cache-Control": "no-cache"},
    )


@router.get(f"{PAGE_PATH}/sw.js")
def service_worker() -> FileResponse:
    """Served from a route, not the static mount, for the header that lets it control the
    checker's page and the QR links (/v/...), which it answers with the checker when offline."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )
