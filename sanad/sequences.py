"""Numbers people read (application and certificate numbers) from PostgreSQL sequences
made on first use: one per prefix and year, which no transaction holds, so those who take
numbers never wait for each other's commits. A number taken by work that then fails is
never given again (a gap)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from sqlalchemy import Integer, String, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from sanad.db import PreparedRead


def sequence_name(kind: str, prefix: str, year: int) -> str:
    """``<kind>_<prefix in a name's letters>_<digest>_<year>``: the digest keeps two prefixes
    that read alike (``PB-REV`` and ``PB_REV``) on sequences of their own."""
    slug = re.sub(r"[^a-z0-9]+", "_", prefix.lower()).strip("_")[:24]
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
    return f"{kind}_{slug}_{digest}_{year:d}"


# On the driver: every submission and issue takes a number, and SQLAlchemy's per-statement
# machinery cost more CPU than the statement.
_TAKING = PreparedRead(
    select(func.nextval(func.to_regclass(bindparam("name", type_=String))).label("number")).select_from(
        func.generate_series(1, bindparam("count", type_=Integer))
    )
)


def take(session: Session, name: str, count: int, last_given: Callable[[], int | None]) -> list[int]:
    """``count`` numbers from sequence ``name``, in order. A sequence not made yet is made
    to start after ``last_given()`` (the numbers given before it existed, if any).

    ``to_regclass`` is NULL for a sequence not made yet, and ``nextval`` of NULL is NULL
    rather than an error: so the usual case is one statement, with no savepoint around it
    to survive a missing sequence."""
    for _ in range(2):
        numbers = [row.number for row in _TAKING.rows_in(session, {"name": name, "count": count})]
        if all(number is not None for number in numbers):
            return sorted(int(number) for number in numbers)
        try:  # the first number of this prefix and year: no sequence yet
            with session.begin_nested():
                session.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(last_given() or 0) + 1}"))
        except (IntegrityError, ProgrammingError):
            pass  # made by another at the same moment
    raise RuntimeError(f"no sequence {name} could be made")
