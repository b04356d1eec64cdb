"""The SQL of certificate numbers: handing out serials, and finding a document by its number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from issuer.models import CertificateNumberCounter, Document
from issuer.numbers import sequence_name
from sanad import sequences


def allocate_serials(session: Session, prefix: str, year: int, count: int = 1) -> list[int]:
    """``count`` serials of ``prefix`` and ``year`` never given before, in order (flushed,
    not committed: call it in a short transaction of its own).

    PostgreSQL takes them from a sequence, which no transaction holds; SQLite (one writer
    at a time anyway) from the counter row."""
    if count < 1:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _from_sequence(session, prefix, year, count)
    statement = (
        sqlite.insert(CertificateNumberCounter)
        .values(prefix=prefix, year=year, last=count)
        .on_conflict_do_update(index_elements=["prefix", "year"], set_={"last": CertificateNumberCounter.last + count})
        .returning(CertificateNumberCounter.last)
    )
    last = int(session.execute(statement).scalar_one())
    return list(range(last - count + 1, last + 1))


def _from_sequence(session: Session, prefix: str, year: int, count: int) -> list[int]:
    def backfilled() -> int | None:  # numbered before the sequence (revision 0020's backfill)
        return session.scalar(
            select(CertificateNumberCounter.last).where(
                CertificateNumberCounter.prefix == prefix, CertificateNumberCounter.year == year
            )
        )

    return sequences.take(session, sequence_name(prefix, year), count, backfilled)


def by_number(session: Session, department_id: int, number: str) -> Document | None:
    """The department's document printed with ``number`` (another's is not found)."""
    return session.scalar(select(Document).where(Document.number == number, Document.department_id == department_id))
