"""The listing and a document's answer, written directly, are byte for byte what pydantic
writes for ``DocumentPage`` and ``LockerDocument``: same fields, order, types and escapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from issuer.service import HolderDepartment, HolderDocument, HolderFilter
from locker import answers, documents
from locker.documents import HeldDocument
from locker.endpoints import to_locker_document
from locker.schemas import DocumentPage, LockerDocument
from sanad.i18n import LocalizedText
from tests.conftest import Backend, IssuingDepartment
from tests.locker.conftest import issue_to, new_mobile, sign_in
from tests.locker.test_documents import revoke

AWKWARD = 'a "quoted" \\ back/slash\x00\x01\b\t\n\x0b\f\r\x1f\x7f\u2028\u2029 é 😀 ਗੁਰਪ੍ਰੀਤ सिंह'


def held(shown: str = "valid", **changes: Any) -> HeldDocument:
    department = HolderDepartment("REV", "Revenue", "ਮਾਲ", "राजस्व")
    values: dict[str, Any] = {
        "id": "tquqtwt2pfhzov2bvpywqb2pla",
        "number": "PB-REV-INC-C-2026-000014",
        "type": "income-certificate",
        "status": "issued",
        "issued_at": datetime(2026, 12, 6, 13, 30, 46, tzinfo=UTC),
        "valid_until": date(2027, 12, 6),
        "holder_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        "sha256": "dae648a1d02ed2dd6f271304f3d94f6973904c670563a35624ebe228722084af",
        "size": 96102,
        "storage_key": "citizens/x/y.pdf",
        "revocation_reason": None,
        "department": department,
    }
    document = HolderDocument(**(values | changes))
    return HeldDocument(document=document, department=document.department, status=shown)


TITLE = LocalizedText(en="Income Certificate", pa="ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", hi="आय प्रमाण पत्र")
CASES: dict[str, tuple[HeldDocument, LocalizedText | None]] = {
    "plain": (held(), TITLE),
    "retired template": (held(), None),
    "no number, no end of validity": (held(number=None, valid_until=None), TITLE),
    "revoked, with a reason": (held("revoked", status="revoked", revocation_reason=AWKWARD), TITLE),
    "microseconds": (held(issued_at=datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)), TITLE),
    "half a second": (held(issued_at=datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)), TITLE),
    "another offset": (held(issued_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5.5)))), TITLE),
    "awkward text everywhere": (
        held(
            holder_name=AWKWARD,
            number=AWKWARD,
            department=HolderDepartment(AWKWARD, AWKWARD, AWKWARD, AWKWARD),
        ),
        LocalizedText(en=AWKWARD, pa=AWKWARD, hi=AWKWARD),
    ),
}


@pytest.mark.parametrize("case", CASES.keys())
def test_a_document_is_written_as_pydantic_writes_it(case: str) -> None:
    document, title = CASES[case]
    url = "https://sanad.example/v/" + document.document.id

    assert answers.document_json(document, title, url) == LockerDocument.of(document, title, url).model_dump_json()


@pytest.mark.parametrize("next_cursor", [None, "MjAyNi0xMi0wNlQxMzozMDo0Ni"])
@pytest.mark.parametrize("count", [0, 1, len(CASES)])
def test_a_page_is_written_as_pydantic_writes_it(count: int, next_cursor: str | None) -> None:
    shown = list(CASES.values())[:count]
    url = "https://sanad.example/v/x"
    direct = answers.page_json((answers.document_json(d, t, url) for d, t in shown), next_cursor)
    items = [LockerDocument.of(d, t, url) for d, t in shown]

    assert direct == DocumentPage(items=items, next_cursor=next_cursor).model_dump_json().encode()


def test_the_api_sends_the_bytes_the_models_would(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    issued = [issue_to(client, dept, mobile, holder_name='ਗੁਰਪ੍ਰੀਤ "ਪ੍ਰੀਤ" ਸਿੰਘ') for _ in range(3)]
    revoke(client, dept, issued[1]["id"])
    headers = sign_in(client, backend, mobile)

    listed = client.get("/api/v1/locker/documents?limit=2", headers=headers)
    one = client.get(f"/api/v1/locker/documents/{issued[1]['id']}", headers=headers)

    with backend.context.sessions() as session:
        page, next_cursor = documents.list_documents(session, mobile, HolderFilter(), limit=2)
        record = documents.get_document(session, mobile, str(issued[1]["id"]))
    expected = DocumentPage(items=[to_locker_document(backend.context, d) for d in page], next_cursor=next_cursor)
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"] == "application/json"
    assert listed.content == expected.model_dump_json().encode()
    assert [item["status"] for item in listed.json()["items"]] == ["valid", "revoked"]
    assert one.status_code == 200, one.text
    assert one.content == to_locker_document(backend.context, record).model_dump_json().encode()
