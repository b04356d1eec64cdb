"""Several INSERTs of whole rows as one PostgreSQL statement.

``WITH s0 AS (INSERT ...), s1 AS (INSERT ...) INSERT ...``: every insert of the statement
sees the same snapshot and runs before the foreign keys are checked, at its end, so a
row may refer to one inserted beside it. One statement is one message to the server and
one execution there; the same inserts in a pipeline were a message each, each waking the
server (a submission's seven rows: ~0.17 ms of client CPU and ~0.05 ms of the server's
more, measured on this machine).

The statement is written with PostgreSQL's own ``$n`` placeholders, for a raw cursor.
psycopg rewrites ``%(name)s`` placeholders with a regular expression, and caches the
result only for statements under 4 KB with at most 50 values: a submission's statement
has 67 or more, and rewriting it was ~8% of the serving process's CPU under load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_PARAMETERS = 30_000
"""Above this, the inserts are sent one by one: PostgreSQL takes at most 65,535
parameters a statement, and a statement that large gains nothing by being one."""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class CombinedInsert:
    """A statement made of several inserts, and how to lay out its values."""

    sql: bytes
    """The statement, with ``$1``, ``$2`` ... placeholders."""
    names: tuple[tuple[str, ...], ...]
    """For each insert, the names of a row's values in the order the statement takes them."""

    def parameters(self, rows_of_inserts: Sequence[Sequence[Mapping[str, Any]]]) -> list[Any]:
        """The statement's values, from each insert's rows (values by name)."""
        return [
            row[name] for names, rows in zip(self.names, rows_of_inserts, strict=True) for row in rows for name in names
        ]


@lru_cache(maxsize=256)
def combined_insert(inserts: tuple[tuple[str, int], ...]) -> CombinedInsert:
    """The statement that inserts, for each ``(sql, rows)``, ``rows`` rows with ``sql``,
    an ``INSERT INTO t (...) VALUES (...)`` with ``%(name)s`` placeholders."""
    parts: list[str] = []
    names: list[tuple[str, ...]] = []
    taken = 0
    for sql, rows in inserts:
        head, values_keyword, values = sql.partition(" VALUES ")
        if not values_keyword or not values.startswith("(") or " RETURNING " in values:
            raise ValueError(f"not an insert of one row of values: {sql[:80]!r}")
        row_names = tuple(_PLACEHOLDER.findall(values))
        if len(set(row_names)) != len(row_names) or "%" in _PLACEHOLDER.sub("", sql):
            raise ValueError(f"not an insert of one row of values, each named once: {sql[:80]!r}")
        literals = _PLACEHOLDER.split(values)[::2]  # the text around the placeholders
        tuples = []
        for _ in range(rows):
            numbered = (f"{text}${taken + n}" for n, text in enumerate(literals[:-1], start=1))
            tuples.append("".join(numbered) + literals[-1])
            taken += len(row_names)
        parts.append(f"{head} VALUES {', '.join(tuples)}")
        names.append(row_names)
    last = parts.pop()
    with_clause = "WITH " + ", ".join(f"s{i} AS ({part})" for i, part in enumerate(parts)) + " " if parts else ""
    return CombinedInsert((with_clause + last).encode(), tuple(names))
