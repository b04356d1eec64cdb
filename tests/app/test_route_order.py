"""The app includes its most-read routers first (a request is matched against routes in
order). That is only safe while no route hides another: every route must be the first
one to match a path of its own shape."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from app.factory import create_app
from sanad.settings import Settings

_PARAMETER = re.compile(r"{([^}:]+)(?::([^}]+))?}")


def _flattened(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flattened(included.routes)
        else:
            yield route


def _example_path(template: str) -> str:
    """A concrete path of the route's shape: each parameter replaced by a plausible value."""
    return _PARAMETER.sub(lambda m: "a/b" if m.group(2) == "path" else "x7" + m.group(1), template)


def _routes() -> list[Route | APIRoute]:
    app = create_app(Settings())
    return [r for r in _flattened(app.router.routes) if isinstance(r, Route | APIRoute) and not isinstance(r, Mount)]


def test_no_route_hides_another() -> None:
    routes = _routes()
    hidden = []
    for route in routes:
        path = _example_path(route.path)
        for method in route.methods or ():
            first = next(r for r in routes if r.path_regex.match(path) and method in (r.methods or ()))
            if first is not route:
                hidden.append(f"{method} {route.path} is answered by {first.path}")
    assert hidden == []


def test_the_most_read_routes_come_first() -> None:
    paths = [route.path for route in _routes()]

    assert paths.index("/health") < 5
    assert paths.index("/v/{document_id}") < 10
    assert paths.index("/api/v1/locker/documents") < paths.index("/api/v1/documents")


def test_submissions_are_a_route_of_the_app_itself() -> None:
    """Matched by their own pattern, not after walking the included routers before intake's."""
    app = create_app(Settings())
    direct = [r for r in app.router.routes if isinstance(r, APIRoute) and r.path == "/api/v1/applications"]

    assert [route.methods for route in direct] == [{"POST"}]
    assert app.router.routes.index(direct[0]) < 10
