"""Forms that only this site's own pages can post.

Forms are protected twice: session cookies are SameSite=Lax (no cross-site POST carries
them) and every form carries a token that must match a cookie (double submit), which also
covers the sign-in forms used before any session exists. One cookie serves every domain's
pages, so a token from a locker page is good on an application form.

A handler states what it needs in its signature: :data:`CsrfValid` when it shows its own
form again with the error, or a dependency from :func:`genuine_form` (or
:meth:`web.guards.SignIn.form`) when a refused form ends in the "form expired" page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from web.cookies import cookie_name, settings_of
from web.navigation import Back, form_page, page_at

_COOKIE = "sanad_csrf"


class FormExpired(Exception):
    """A form came without its token, or with one that is not this browser's: nothing was
    done. The page route answers with the domain's "form expired" page."""

    def __init__(self, back: str) -> None:
        super().__init__("the form's CSRF token is missing or wrong")
        self.back = back
        """The page the form was on, for the link back."""


def csrf_token(request: Request) -> str:
    """The request's token: the cookie's, or a new one that :func:`keep_csrf_cookie` sets."""
    token = request.cookies.get(cookie_name(_COOKIE, settings_of(request))) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def keep_csrf_cookie(request: Request, response: Response) -> None:
    """Give the browser the token a page was rendered with, if the page made a new one."""
    new_token = getattr(request.state, "new_csrf", None)
    if new_token:
        settings = settings_of(request)
        response.set_cookie(
            cookie_name(_COOKIE, settings), new_token, httponly=True, secure=settings.secure_cookies, samesite="lax"
        )


def submitted_csrf(csrf: Annotated[str, Form(max_length=64)] = "") -> str:
    """The token an (URL-encoded or multipart) form posted in its ``csrf`` field."""
    return csrf


SubmittedToken = Callable[..., str]
"""A dependency giving the token a form posted (:func:`submitted_csrf`, or one that reads a
body the domain parses itself)."""


def is_genuine(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(cookie_name(_COOKIE, settings_of(request)))
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))


def form_is_genuine(request: Request, submitted: Annotated[str, Depends(submitted_csrf)]) -> bool:
    return is_genuine(request, submitted)


CsrfValid = Annotated[bool, Depends(form_is_genuine)]
"""Whether the posted form is genuine, for a handler that shows its own form again when not."""


def genuine_form(back: Back = form_page, token: SubmittedToken = submitted_csrf) -> Callable[..., None]:
    """A dependency that lets only a genuine form through; any other raises
    :class:`FormExpired` with ``back``, the page the form was on."""

    read_token = Depends(token)

    def require_genuine_form(request: Request, submitted: str = read_token) -> None:
        if not is_genuine(request, submitted):
            raise FormExpired(page_at(back, request))

    return require_genuine_form
