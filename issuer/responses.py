"""The answers every department document route documents in OpenAPI besides its own."""

from __future__ import annotations

from typing import Any

DOCUMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid API key."},
    404: {"description": "No such document for this department."},
    503: {"description": "Database or object storage unavailable; retry after `Retry-After` seconds."},
}
