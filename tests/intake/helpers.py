"""Intake test helpers: the catalogue's departments, staff, and a valid application."""

from __future__ import annotations

import io
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from accounts.models import StaffRole
from accounts.staff import add_staff
from sanad.departments import DepartmentNames, add_department
from sanad.models import Department
from tests.conftest import PKI_EPOCH, Backend
from trust.departments import ensure_department_key

PASSWORD = "correct horse battery staple"
INCOME_FORM: dict[str, Any] = {
    "applicant_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "applicant_name_en": "Gurpreet Singh",
    "relation": "son_of",
    "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
    "relation_name_en": "Harjeet Singh",
    "address": "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
    "address_en": "Village Kheri, Post Office Samrala",
    "district": "ਲੁਧਿਆਣਾ",
    "district_en": "Ludhiana",
    "annual_income": 240000,
    "financial_year": "2025-26",
    "purpose": "Scholarship application",
    "mobile": "9876543210",
}


TYPED_FIELDS = (
    "applicant_name",
    "applicant_name_en",
    "relation_name",
    "relation_name_en",
    "address",
    "address_en",
    "district",
    "district_en",
)
"""The income form's text boxes a browser test types into, in the form's order."""


def ensure_department(backend: Backend, code: str) -> int:
    """The catalogue names real department codes; tests share one per backend."""
    with backend.context.sessions() as s:
        department = s.scalar(select(Department).where(Department.code == code))
        if department is None:
            department = add_department(s, code, DepartmentNames(en=f"Department {code}", pa="ਵਿਭਾਗ", hi="विभाग"))
            s.commit()
        department_id = department.id
    ensure_department_key(backend.settings.keys_dir, code, f"Department {code}", now=PKI_EPOCH)
    return department_id


def staff_headers(
    client: TestClient, backend: Backend, role: StaffRole, department: str | None = "REV", office: str | None = None
) -> dict[str, str]:
    username = f"{role.value}-{secrets.token_hex(4)}"
    with backend.context.sessions() as s:
        add_staff(
            s,
            username=username,
            password=PASSWORD,
            full_name=f"Test {role.value.replace('_', ' ').title()}",
            role=role,
            department_id=ensure_department(backend, department) if department else None,
            office_code=office,
            now=datetime.now(UTC),
        )
        s.commit()
    response = client.post("/api/v1/staff/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
"""The first bytes of an iPhone photo (an ISO media file of brand heic)."""


def jpeg(size: int = 0) -> bytes:
    """A JPEG, padded to ``size`` bytes (a phone photo's size) when asked."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "gray").save(buffer, "JPEG")
    data = buffer.getvalue()
    return data + bytes(max(0, size - len(data)))


def income_files(**overrides: tuple[str, bytes, str] | None) -> list[tuple[str, tuple[str, bytes, str]]]:
    files: dict[str, tuple[str, bytes, str] | None] = {
        "aadhaar": ("aadhaar.png", png(), "image/png"),
        "affidavit": ("affidavit.pdf", PDF, "application/pdf"),
        **overrides,
    }
    return [(f"attachment.{kind}", file) for kind, file in files.items() if file is not None]


def apply(
    client: TestClient,
    headers: dict[str, str],
    *,
    form: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    service: str = "rev-income",
    office: str = "TEH-SMR",
    lang: str = "en",
    **extra: str,
) -> Any:
    return client.post(
        f"/api/v1/applications?lang={lang}",
        data={
            "service": service,
            "office": office,
            "form": json.dumps(form or INCOME_FORM, ensure_ascii=False),
            **extra,
        },
        files=files if files is not None else income_files(),
        headers=headers,
    )
