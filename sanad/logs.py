"""Structured logs: one JSON object a line, carrying the request each line was written for.

The request's id, method and route travel in a context variable set by the HTTP
middleware (``web.observe``), so any line a handler, a service or a library writes while
it answers the request carries them with no logger passed around. Every line is
scrubbed before it is written: API keys, bearer tokens, passwords, one-time codes and
mobile numbers never reach the log, whoever wrote the message (the development
notification channel alone, which production refuses, writes its messages whole: the log
is how it delivers them).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Fields of the access line (``extra=`` of the middleware's log call).
STATUS_FIELD = "status"
DURATION_FIELD = "duration_ms"
#: Set (``extra=``) by a caller whose message must not be scrubbed: the access line, built
#: only of values it controls (scrubbing is most of a line's cost), and the development
#: notification channel, whose delivery is the log (production refuses that channel).
CLEAN_FIELD = "sanad_clean"


@dataclass
class RequestLog:
    """What every line written while a request is answered says about it."""

    request_id: str
    method: str
    scope: MutableMapping[str, Any] = field(repr=False)
    """The ASGI scope: the router writes the matched route into it after this is made."""

    @property
    def route(self) -> str | None:
        return route_template(self.scope)


CURRENT_REQUEST: ContextVar[RequestLog | None] = ContextVar("sanad_request", default=None)


def route_template(scope: MutableMapping[str, Any]) -> str | None:
    """The matched route's template (``/api/v1/documents/{document_id}``), never the raw
    path: the raw path carries ids, and a label per id would grow without bound."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    return None


# --- scrubbing -------------------------------------------------------------------------

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Department API keys (sk_<dept>_<secret>) wherever they appear.
    (re.compile(r"\bsk_[A-Za-z0-9_-]+"), "sk_[redacted]"),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    # name=value / name: value pairs of secret things.
    (
        re.compile(r"(?i)(?<![a-z])(password|passwd|secret|token|api[_-]?key|pin|otp)(\"?\s*[=:]\s*\"?)[^\s\",;&]+"),
        r"\1\2[redacted]",
    ),
    # Indian mobile numbers, with or without +91 / 0, spaces or dashes after the prefix.
    (re.compile(r"(?<![\w-])(?:\+?91[\s-]?|0)?[6-9]\d{4}[\s-]?\d{5}(?![\w-])"), "[mobile]"),
    # A lone six-digit number is a one-time code (or a PIN code, personal too); digits
    # joined to letters or dashes (application numbers, ids) are left alone.
    (re.compile(r"(?<![\w-])\d{6}(?![\w-])"), "[code]"),
)


def scrub(text: str) -> str:
    """``text`` with secrets and personal data replaced by placeholders."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


# --- formatting ------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", "method", "route", "status",
    "duration_ms"}``, plus ``"error"`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage() if getattr(record, CLEAN_FIELD, False) else scrub(record.getMessage()),
        }
        request = CURRENT_REQUEST.get()
        if request is not None:
            line["request_id"] = request.request_id
            line["method"] = request.method
            line["route"] = request.route
        for name in (STATUS_FIELD, DURATION_FIELD):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that sends every logger, uvicorn's included, as
    JSON lines to standard error. Given to uvicorn, it applies in each server process."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own loggers keep their level but write through the root handler.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure(level: str = "INFO") -> None:
    """JSON logs for this process (commands and workers; the server passes
    :func:`log_config` to uvicorn instead)."""
    import logging.config

    logging.config.dictConfig(log_config(level))
