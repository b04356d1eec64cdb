"""Errors of the intake domain.

Exception
├── CatalogueError     a broken service catalogue file; raised at start-up only
└── CalendarError      the holiday calendar is unusable or lacks a year it was asked about

sanad.errors.Conflict
└── DuplicateApplication   409: an identical application was filed lately (the counter
                           files another only when told to)

A citizen's invalid form is :class:`sanad.errors.InvalidInput`, not one of these.
"""

from __future__ import annotations

from sanad.errors import Conflict


class CatalogueError(Exception):
    """A ``catalogue/<service>.yaml`` file is unusable.

    A deployment error, not a client error: it stops start-up and never reaches HTTP.
    The message names the file, the offending key as a dotted path
    (``fields[2].validation.max``) and the reason.
    """


class CalendarError(Exception):
    """The holiday calendar cannot answer: a broken year file, or a date in a year no
    file covers. Never answered by guessing that a year has no holidays."""


class DuplicateApplication(Conflict):
    """An application for the same service, citizen and answers was filed lately. The
    answer names it (``existing_number``) so the operator can look it up, or confirm that
    the citizen wants another one (``confirm_duplicate``)."""

    code = "duplicate_application"

    def __init__(self, existing_number: str, filed_on: str) -> None:
        super().__init__(
            f"an identical application, {existing_number}, was filed on {filed_on}; "
            "send confirm_duplicate=true to file this one anyway"
        )
        self.existing_number = existing_number
        self.extra = {"existing_number": existing_number}
