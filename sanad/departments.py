"""Departments and their API keys: created by operators, used to authenticate issuers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sanad.errors import Conflict, NotFound
from sanad.ids import new_api_key, sha256_hex
from sanad.models import ApiKey, Department


@dataclass(frozen=True)
class DepartmentNames:
    en: str
    pa: str
    hi: str


def add_department(session: Session, code: str, names: DepartmentNames) -> Department:
    if session.scalar(select(Department).where(Department.code == code)) is not None:
        raise Conflict(f"department {code!r} already exists")
    department = Department(
        code=code, name_en=names.en, name_pa=names.pa, name_hi=names.hi, created_at=datetime.now(UTC)
    )
    session.add(department)
    session.flush()
    return department


def get_department(session: Session, code: str) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(f"no department {code!r}")
    return department


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def create_api_key(session: Session, department: Department) -> str:
    """Create a key and return it; only its hash is kept, so it is shown once."""
    key = new_api_key(department.code)
    session.add(
        ApiKey(department_id=department.id, key_hash=sha256_hex(key), prefix=key[:12], created_at=datetime.now(UTC))
    )
    session.flush()
    return key


def department_for_api_key(session: Session, key: str) -> Department | None:
    return session.execute(
        select(Department)
        .join(ApiKey, ApiKey.department_id == Department.id)
        .where(ApiKey.key_hash == sha256_hex(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
