"""An entry's canonical form: the exact bytes its leaf hash is taken of.

JSON with sorted keys, no spaces, UTF-8 (no ``\\u`` escapes); values are strings,
integers, booleans, null, lists and objects only (no floats, whose text form differs
between writers). Every entry carries its own index, so a row moved to another place
in the log no longer matches its place::

    {"action":"document.issue","actor":"department:REV","at":"2026-12-05T21:47:22.123456Z",
     "details":{...},"index":41,"subject":"document:7K2…","v":1}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from audit.merkle import leaf_hash

VERSION = 1
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

Details = Mapping[str, Any]


class NotCanonical(ValueError):
    """A value an entry cannot hold (a float, a non-string key, an object of another type)."""


@dataclass(frozen=True)
class Entry:
    """What one entry says."""

    index: int
    at: datetime
    action: str
    subject: str
    actor: str
    details: Details

    def canonical(self) -> bytes:
        return canonical_json(
            {
                "v": VERSION,
                "index": self.index,
                "at": format_time(self.at),
                "action": self.action,
                "subject": self.subject,
                "actor": self.actor,
                "details": dict(self.details),
            }
        )

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical())

    def canonical_around_index(self) -> tuple[str, str]:
        """The canonical form as the text before and after the index's digits: for any
        index ``i >= 0``, ``before + str(i) + after`` is the canonical form of this entry
        at ``i``. (So the log can place an entry whose index only the database knows.)"""
        text = replace(self, index=0).canonical().decode("utf-8")
        # The last `"index":` is the entry's own: keys are sorted, so after it come only
        # "subject" and "v", and a string's quotes are escaped (`\"`), so no string can
        # hold `"index":` however the details or the subject are chosen.
        before, _, after = text.rpartition('"index":0')
        return before + '"index":', after


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{where} has a key that is not a string: {key!r}")
            _check(item, f"{where}.{key}")
        return
    raise NotCanonical(f"{where} is a {type(value).__name__}; entries hold strings, integers, booleans and null")


def canonical_json(value: Mapping[str, Any]) -> bytes:
    _check(dict(value), "entry")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse(entry: bytes) -> Entry:
    """The entry these canonical bytes state; :class:`NotCanonical` if they are not the
    canonical form of any entry."""
    try:
        value = json.loads(entry.decode("utf-8"))
        parsed = Entry(
            index=value["index"],
            at=parse_time(value["at"]),
            action=value["action"],
            subject=value["subject"],
            actor=value["actor"],
            details=value["details"],
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise NotCanonical(f"not an audit entry: {e}") from e
    if value.get("v") != VERSION or not isinstance(parsed.index, int) or parsed.canonical() != entry:
        raise NotCanonical("not in canonical form")
    return parsed
