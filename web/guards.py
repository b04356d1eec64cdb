"""Pages for someone signed in, stated in the handler's signature instead of checked in its body:

    def page(holder: Annotated[Holder, Depends(CITIZEN.required())]) -> Response: ...
    def post(holder: Annotated[Holder, Depends(CITIZEN.form(back=...))]) -> Response: ...

Nobody signed in raises :class:`SignInRequired`, which the page's route answers with a
redirect to the sign-in page, which returns to the page afterwards. A form must also be
genuine (:mod:`web.csrf`), or :class:`~web.csrf.FormExpired` is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from web.csrf import SubmittedToken, genuine_form, submitted_csrf
from web.navigation import Back, form_page, page_at, this_page

T = TypeVar("T")


class SignInRequired(Exception):
    """Nobody is signed in; the answer is the sign-in page, returning to ``back`` after."""

    def __init__(self, sign_in_page: str, back: str) -> None:
        super().__init__("sign in first")
        self.location = f"{sign_in_page}?next={quote(back, safe='')}"

    def redirect(self) -> RedirectResponse:
        return RedirectResponse(self.location, status_code=303)


@dataclass(frozen=True)
class SignIn(Generic[T]):
    """How one kind of user (a citizen, a staff member) signs in to the pages."""

    who: Callable[..., T | None]
    """A dependency: who is signed in, or None."""
    page: str
    """The sign-in page; it returns to its ``next`` parameter when done."""

    def required(self, back: Back = this_page) -> Callable[..., T]:
        """A dependency: who is signed in, or :class:`SignInRequired` to come back to
        ``back`` (by default the requested page itself)."""

        find_who = Depends(self.who)

        def signed_in(request: Request, who: T | None = find_who) -> T:
            if who is None:
                raise SignInRequired(self.page, page_at(back, request))
            return who

        return signed_in

    def form(self, back: Back = form_page, token: SubmittedToken = submitted_csrf) -> Callable[..., T]:
        """A dependency for a posted form: who is signed in (checked first), and a genuine
        form. ``back`` is the page the form was on: sign-in returns there (the sign-in ends
        with a GET, which cannot repeat the post), and the "form expired" page links to it."""

        signed_in, genuine = Depends(self.required(back)), Depends(genuine_form(back, token))

        def signed_in_with_genuine_form(who: T = signed_in, _: None = genuine) -> T:
            return who

        return signed_in_with_genuine_form

    def redirect(self, request: Request) -> RedirectResponse:
        """To sign in and back to this page, for a handler that must look at the request
        before it may ask for a sign-in (the OAuth authorization endpoint)."""
        return SignInRequired(self.page, this_page(request)).redirect()


class SignInRoute(APIRoute):
    """A route that answers :class:`SignInRequired` with the redirect to sign in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_signed_in(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as e:
                return e.redirect()

        return handle_signed_in
