"""Issuing and revoking a document each append an entry, in the transaction of the change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit import repository
from audit.entries import parse
from issuer import service
from issuer.models import Document, DocumentStatus
from issuer.schemas import DocumentCreate
from tests.conftest import Backend, IssuingDepartment, income_certificate


class CommitRefused(RuntimeError):
    pass


def refuse_commit(session: Session) -> None:
    """Make the session's next commit fail, as a lost connection would."""

    def refuse(_: Session) -> None:
        raise CommitRefused("the commit failed")

    event.listen(session, "before_commit", refuse, once=True)


def _entries(backend: Backend, document_id: str) -> list[tuple[str, str, dict[str, object]]]:
    with backend.context.sessions() as s:
        rows = repository.about(s, [f"document:{document_id}"], limit=10)
        return [(r.action, r.actor, dict(parse(r.entry.encode("utf-8")).details)) for r in reversed(rows)]


def test_issuing_and_revoking_are_recorded(client: TestClient, dept: IssuingDepartment, backend: Backend) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    client.post(f"/api/v1/documents/{issued['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers)
    actor = f"department:{dept.department.code}"
    assert _entries(backend, issued["id"]) == [
        ("document.issue", actor, {"type": "income-certificate", "sha256": issued["sha256"]}),
        ("document.revoke", actor, {"reason": "issued in error"}),
    ]
    # a refused second revocation records nothing
    client.post(f"/api/v1/documents/{issued['id']}/revoke", json={"reason": "twice"}, headers=dept.headers)
    assert len(_entries(backend, issued["id"])) == 2


def test_an_issuance_whose_commit_fails_leaves_no_entry(backend: Backend, dept: IssuingDepartment) -> None:
    request = DocumentCreate.model_validate(income_certificate())
    with backend.context.sessions() as s:
        before = repository.head_size(s)
        refuse_commit(s)
        with pytest.raises(CommitRefused):
            service.issue_document(s, backend.context.kit, dept.department, request)
    with backend.context.sessions() as s:
        assert s.query(Document).filter_by(department_id=dept.department.id).count() == 0
        mine = [e for e in repository.walk(s, start=before) if e.actor == f"department:{dept.department.code}"]
        assert mine == []


def test_a_revocation_whose_commit_fails_leaves_no_entry(
    client: TestClient, dept: IssuingDepartment, backend: Backend
) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    with backend.context.sessions() as s:
        refuse_commit(s)
        with pytest.raises(CommitRefused):
            service.revoke(s, dept.department, issued["id"], "issued in error")
    with backend.context.sessions() as s:
        document = s.get(Document, issued["id"])
        assert document is not None
        assert document.status == DocumentStatus.ISSUED
    assert [a for a, _, _ in _entries(backend, issued["id"])] == ["document.issue"]
