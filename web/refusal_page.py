"""The page a person gets when the request guard refuses a form before any page sees it
(a phone photo over the upload limit, a body that stopped arriving): the API answers
JSON, a browser gets this, in the reader's language, with the way back to the form."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.types import Scope

from web.i18n import pick_language
from web.templates import MESSAGES

ACTIONS = frozenset({"resubmit", "decisions"})
"""Last path segments that only take a post: the way back is the page above them."""


def wants_page(scope: Scope) -> bool:
    """A browser's form post (it asks for HTML), not a call to the API."""
    accept = next((value for name, value in scope.get("headers", []) if name == b"accept"), b"")
    return not scope["path"].startswith("/api/") and b"text/html" in accept


def form_page_of(path: str) -> str:
    """The page the refused form was on: the address it was posted to, or the page above
    an action that only takes a post."""
    head, _, last = path.rstrip("/").rpartition("/")
    return (head or "/") if last in ACTIONS else (path or "/")


def refusal_page(request: Request, status_code: int, size: str) -> str:
    """A whole small page (it has no domain's templates to extend), explaining the refusal."""
    language = pick_language(request)
    t = MESSAGES.translator(language)
    which = "too_large" if status_code == 413 else "too_slow"
    back = escape(form_page_of(request.url.path), quote=True)
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t(f'refused.{which}.title'))}</title>"
        '<link rel="stylesheet" href="/static/locker/fonts.css">'
        '<link rel="stylesheet" href="/static/locker/locker.css"></head><body>'
        f'<main id="main"><section class="card" data-testid="refused" data-status="{status_code}">'
        f"<h1>{escape(t(f'refused.{which}.title'))}</h1>"
        f"<p>{escape(t(f'refused.{which}.body', size=size))}</p>"
        f'<p><a class="button" href="{back}">{escape(t("refused.back"))}</a></p>'
        "</section></main></body></html>"
    )
