"""Headers every answer carries, and the content policy of server-rendered pages."""

from __future__ import annotations

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Pages load only their own stylesheet and fonts; /docs needs the Swagger UI assets.
PAGE_CSP = "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'"
