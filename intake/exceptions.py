"""Errors of the intake domain.

Exception
├── CatalogueError     a broken service catalogue file; raised at start-up only
└── CalendarError      the holiday calendar is unusable or lacks a year it was asked about

A citizen's invalid form is :class:`sanad.errors.InvalidInput`, not one of these.
"""

from __future__ import annotations


class CatalogueError(Exception):
    """A ``catalogue/<service>.yaml`` file is unusable.

    A deployment error, not a client error: it stops start-up and never reaches HTTP.
    The message names the file, the offending key as a dotted path
    (``fields[2].validation.max``) and the reason.
    """


class CalendarError(Exception):
    """The holiday calendar cannot answer: a broken year file, or a date in a year no
    file covers. Never answered by guessing that a year has no holidays."""
