"""The error tree every domain builds on (`app/factory.py` renders it as JSON, `web/pages.py` as a page).

    SanadError                 (message, status_code, code)
    ├── NotFound               404
    ├── Unauthorized           401
    ├── Forbidden              403
    ├── Conflict               409
    ├── Gone                   410
    ├── UnsupportedMediaType   415
    ├── TooManyRequests        429, retryable (Retry-After)
    ├── BadRequest             400
    ├── PayloadTooLarge        413
    ├── InvalidInput           422, with per-field errors
    └── ServiceUnavailable     503, retryable (Retry-After)

Domains subclass these in their own ``exceptions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


class SanadError(Exception):
    """Base of every error that maps to an HTTP answer."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SanadError):
    status_code = 400
    code = "bad_request"


class Unauthorized(SanadError):
    status_code = 401
    code = "unauthorized"


class Forbidden(SanadError):
    status_code = 403
    code = "forbidden"


class NotFound(SanadError):
    status_code = 404
    code = "not_found"


class Conflict(SanadError):
    status_code = 409
    code = "conflict"


class Gone(SanadError):
    """Existed once, is no more (an expired or revoked share link)."""

    status_code = 410
    code = "gone"


class UnsupportedMediaType(SanadError):
    status_code = 415
    code = "unsupported_media_type"


class TooManyRequests(SanadError):
    """A rate limit was hit; ``retry_after_seconds`` says when trying again can succeed."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)


class PayloadTooLarge(SanadError):
    status_code = 413
    code = "payload_too_large"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: a dotted path such as ``data.annual_income`` and why."""

    field: str
    message: str


class InvalidInput(SanadError):
    status_code = 422
    code = "invalid_input"

    def __init__(self, errors: list[FieldError]) -> None:
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(summary or "invalid input")
        self.errors = errors


class ServiceUnavailable(SanadError):
    """A dependency (database, object storage) is down; the client may retry."""

    status_code = 503
    code = "service_unavailable"
    retry_after_seconds = 5
