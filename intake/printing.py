"""Pages a person prints: the receipt handed over at the counter, and the answers read back
before filing. Their print button is a small script of our own (printing needs one), so
these pages alone allow scripts from this site; the print stylesheet is in intake.css."""

from __future__ import annotations

from fastapi import Response

from web.security import PAGE_CSP

PRINTABLE_CSP = f"{PAGE_CSP}; script-src 'self'"
"""The pages' policy, plus their own print script (no inline script, no other origin)."""


def printable(page: Response) -> Response:
    """Let ``page`` run its print button (``/static/intake/print.js``)."""
    page.headers["Content-Security-Policy"] = PRINTABLE_CSP
    return page
