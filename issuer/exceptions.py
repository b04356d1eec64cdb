"""Errors of the issuing domain.

Exception
└── TemplateError            a broken template directory; raised at start-up only
SanadError
└── InvalidInput             422
    ├── UnknownDocumentType  the request names a type no template provides
    └── ReservedCitizenId    a department's request names a citizen id Sanad reserves
"""

from __future__ import annotations

from collections.abc import Iterable

from sanad.errors import FieldError, InvalidInput


class TemplateError(Exception):
    """A template's ``meta.yaml`` (or its files) is unusable.

    A deployment error, not a client error: it stops start-up and never reaches HTTP.
    The message names the file, the offending key and the reason.
    """


class UnknownDocumentType(InvalidInput):
    """The requested document type has no template; the message lists the known ones."""

    def __init__(self, document_type: str, known: Iterable[str]) -> None:
        names = ", ".join(sorted(known)) or "none"
        message = f"unknown document type {document_type!r}; known: {names}"
        super().__init__([FieldError("type", message)])
        self.document_type = document_type


class ReservedCitizenId(InvalidInput):
    """A department named a citizen id in the namespace Sanad keeps for the certificates it
    issues on approved applications; allowing it would let a department pre-claim one."""

    def __init__(self, prefix: str) -> None:
        message = (
            f"citizen ids beginning with {prefix!r} are reserved for certificates Sanad issues on approved "
            "applications; use your department's own identifier for the citizen"
        )
        super().__init__([FieldError("citizen_id", message)])
