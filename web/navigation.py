"""Where a page sends the reader: back to the page a form was on, and only ever within
this site."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

PageOf = Callable[[Request], str]
"""The address of a page, worked out from the request (usually from its path parameters)."""

Back = str | PageOf
"""A page to return to: a fixed address, or one worked out from the request."""


def this_page(request: Request) -> str:
    """The requested page with its query: where a sign-in returns after a GET."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def form_page(request: Request) -> str:
    """A form posted to the page it is on: that page, without the query."""
    return request.url.path


def page_at(back: Back, request: Request) -> str:
    return back if isinstance(back, str) else back(request)


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (never another host, scheme or
    protocol-relative URL), else ``default``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
