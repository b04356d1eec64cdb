"""The cookies pages set: host-only and Secure behind HTTPS, never readable by scripts,
and SameSite=Lax so no cross-site form post carries them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from sanad.settings import Settings


def settings_of(request: Request) -> Settings:
    """The deployment's settings, from the context the app was started with."""
    settings: Settings = request.app.state.context.settings
    return settings


def cookie_name(name: str, settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure and host-only.
    return f"__Host-{name}" if settings.secure_cookies else name


@dataclass(frozen=True)
class SessionCookie:
    """A cookie that carries a session token."""

    name: str
    """Its name over plain HTTP; behind HTTPS it gains the ``__Host-`` prefix."""

    def name_for(self, settings: Settings) -> str:
        return cookie_name(self.name, settings)

    def read(self, request: Request) -> str | None:
        return request.cookies.get(self.name_for(settings_of(request))) or None

    def set(self, response: Response, settings: Settings, token: str, max_age: int) -> None:
        response.set_cookie(
            self.name_for(settings),
            token,
            max_age=max_age,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            path="/",
        )

    def clear(self, response: Response, settings: Settings) -> None:
        response.delete_cookie(self.name_for(settings), path="/", secure=settings.secure_cookies, httponly=True)
