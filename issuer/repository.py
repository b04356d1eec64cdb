"""Every SQL query of the issuer domain."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuer.models import Document
from sanad.ids import new_citizen_ref
from sanad.models import Citizen, Department


def citizen_ref(session: Session, citizen_id: str) -> str | None:
    return session.scalar(select(Citizen.ref).where(Citizen.citizen_id == citizen_id))


def ensure_citizen(session: Session, citizen_id: str) -> str:
    """The citizen's storage pseudonym, created on first use (race-safe insert)."""
    ref = citizen_ref(session, citizen_id)
    if ref is not None:
        return ref
    values = {"ref": new_citizen_ref(), "citizen_id": citizen_id, "created_at": datetime.now(UTC)}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Citizen).values(**values).on_conflict_do_nothing(index_elements=["citizen_id"]))
    session.commit()
    ref = citizen_ref(session, citizen_id)
    assert ref is not None
    return ref


def by_idempotency_key(session: Session, department_id: int, key: str) -> Document | None:
    return session.scalar(
        select(Document).where(Document.department_id == department_id, Document.idempotency_key == key)
    )


def get(session: Session, document_id: str) -> Document | None:
    return session.get(Document, document_id)


def _one_with_department(session: Session, condition: ColumnElement[bool]) -> tuple[Document, Department] | None:
    row = session.execute(
        select(Document, Department).join(Department, Department.id == Document.department_id).where(condition)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def get_with_department(session: Session, document_id: str) -> tuple[Document, Department] | None:
    return _one_with_department(session, Document.id == document_id)


def by_sha256_with_department(session: Session, sha256: str) -> tuple[Document, Department] | None:
    return _one_with_department(session, Document.sha256 == sha256)


def referenced_storage_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Document.storage_key).where(Document.storage_key.in_(keys))))
