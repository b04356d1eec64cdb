"""What the locker's pages share beyond :mod:`web`: their templates and texts, how errors
read on them, the signed-in citizen, and small display helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from locker.dependencies import get_page_holder
from locker.holder import Holder
from locker.i18n import MESSAGES
from web.guards import SignIn
from web.pages import Pages

DOCUMENTS = "/locker/documents"
"""The locker's home: where a signed-in citizen lands and error pages lead back to."""


def _signed_in(request: Request) -> dict[str, Any]:
    return {"holder": getattr(request.state, "holder", None)}


def _home(request: Request) -> str | None:
    return DOCUMENTS if getattr(request.state, "holder", None) is not None else None


PAGES = Pages(Path(__file__).parent / "pages", MESSAGES, signed_in=_signed_in, home=_home)
"""The locker's pages: ``PAGES.render``, ``PAGES.error_page``, and ``PAGES.route_class`` for
the routers whose errors are pages."""

CITIZEN = SignIn(who=get_page_holder, page="/locker/sign-in")
"""Citizens sign in to the locker with a one-time code (:mod:`locker.views`)."""
SignedIn = Annotated[Holder, Depends(CITIZEN.required())]
"""The signed-in citizen's locker; nobody signed in: to sign in, and back to this page."""


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("UCBrowser/", "UC Browser"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def short_agent(user_agent: str) -> str:
    """``Chrome · Android`` instead of a 150-character user agent; unknown ones are cut short."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser:
        return f"{browser} · {system}" if system else browser
    return user_agent if len(user_agent) <= 40 else user_agent[:40] + "…"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
