"""The published ``/openapi.json``: FastAPI's document, corrected to say what the server
really answers.

FastAPI documents its own ``HTTPValidationError`` for 422, while our handlers answer
``{"error", "detail", "fields"}``; and answers that middleware or shared handlers give
(413 and 408 from the request guard, 503 when the database is down)
appear on no operation. Rather than repeat them on every route, this fills them in once,
for every operation, from the same facts the handlers act on. Routes still declare the
answers only they give (401, 404, 409, 429, ...); this gives those a body schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR = "Error"
INVALID_INPUT = "InvalidInput"
OAUTH_ERROR = "OAuthError"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR}"}
_INVALID_INPUT_REF = {"$ref": f"#/components/schemas/{INVALID_INPUT}"}
_OAUTH_ERROR_REF = {"$ref": f"#/components/schemas/{OAUTH_ERROR}"}
#: The authorization server's refusals and a bearer token's (RFC 6749 §5.2, RFC 6750 §3) are
#: OAuth's shape, not ours.
_OAUTH_PATHS = ("/oauth/", "/api/v1/requester/")
_OAUTH_STATUSES = frozenset({"400", "401"})

_SCHEMAS: dict[str, Any] = {
    ERROR: {
        "title": ERROR,
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A code a program can act on, e.g. `not_found`."},
            "detail": {"type": "string", "description": "What went wrong, for a person."},
            "retry_after_seconds": {"type": "integer", "description": "429 only: when trying again can succeed."},
        },
    },
    INVALID_INPUT: {
        "title": INVALID_INPUT,
        "type": "object",
        "required": ["error", "detail", "fields"],
        "properties": {
            "error": {"type": "string", "enum": ["invalid_input"]},
            "detail": {"type": "string", "description": "Every problem, for a person."},
            "fields": {
                "type": "array",
                "description": "At most 20 problems, each naming its field (e.g. `data.annual_income`).",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    OAUTH_ERROR: {
        "title": OAUTH_ERROR,
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "RFC 6749 §5.2 code, e.g. `invalid_grant`."},
            "error_description": {"type": "string"},
        },
    },
}

_RETRY_AFTER = {"description": "Seconds to wait before trying again.", "required": True, "schema": {"type": "integer"}}
_HEADERS_BY_STATUS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {"description": "The accepted scheme.", "required": True, "schema": {"type": "string"}}
    },
    "405": {"Allow": {"description": "The methods the path accepts.", "required": True, "schema": {"type": "string"}}},
    "429": {"Retry-After": _RETRY_AFTER},
    "503": {"Retry-After": _RETRY_AFTER},
}
_DESCRIPTIONS = {
    "400": "Bad request.",
    "401": "No credentials, or ones not accepted.",
    "403": "Not allowed.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "408": "The request body arrived too slowly.",
    "409": "Conflicts with the resource's state.",
    "413": "The request body is larger than allowed.",
    "415": "Unsupported media type.",
    "422": "Invalid input: every problem, each naming its field.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
    "503": "A dependency (database, object storage) is unavailable; retry after `Retry-After` seconds.",
}
#: Request bodies cut into parts by a parser that refuses a malformed one with 400.
_FORM_MEDIA = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
#: Operations that answer without touching a dependency, so never 503.
_NO_DEPENDENCY = frozenset({("/health", "get")})


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = truthful(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def truthful(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every operation's error answers as the server gives them."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(_SCHEMAS)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _complete(
                operation,
                has_body="requestBody" in operation,
                form_body=bool(_FORM_MEDIA.intersection(operation.get("requestBody", {}).get("content", {}))),
                touches_dependency=(path, method) not in _NO_DEPENDENCY,
                oauth=path.startswith(_OAUTH_PATHS),
            )
    return document


def _complete(
    operation: dict[str, Any], *, has_body: bool, form_body: bool, touches_dependency: bool, oauth: bool
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    added = []
    if has_body:
        # The request guard's answers; a body's members and nesting are checked as 422.
        added += ["408", "413", "422"]
    if form_body:
        # A multipart or form body that cannot be cut into its parts is refused before any
        # field is looked at (the form parser's 400, or intake's malformed_body).
        responses.setdefault("400", {"description": "The body is not well-formed multipart or form data."})
    if touches_dependency:
        added.append("503")
    for status in added:
        responses.setdefault(status, {})
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        response.setdefault("description", _DESCRIPTIONS.get(status, "Error."))
        if status == "422":
            response["content"] = {"application/json": {"schema": _INVALID_INPUT_REF}}
        else:
            _give_error_body(response, _OAUTH_ERROR_REF if oauth and status in _OAUTH_STATUSES else _ERROR_REF)
        if status in _HEADERS_BY_STATUS:
            response.setdefault("headers", {}).update(_HEADERS_BY_STATUS[status])


def _give_error_body(response: dict[str, Any], schema: dict[str, str]) -> None:
    """An answer a route documented without a body gets the error body; one with its own
    JSON model (a lookup's 404) keeps it."""
    content = response.setdefault("content", {})
    json_media = content.setdefault("application/json", {})
    if not json_media.get("schema"):
        json_media["schema"] = schema
