"""B-LTA issuance through the API, the archive job, and key rotation, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from issuer import service
from tests.conftest import Backend, IssuingDepartment
from tests.verifier.test_api import issue, upload
from trust.departments import rotate_department_key


def test_issued_document_is_b_lta_and_the_verifier_reports_each_signature(
    client: TestClient, dept: IssuingDepartment
) -> None:
    record, pdf = issue(client, dept)

    result = upload(client, pdf)

    assert record["signature_level"] == "B-LTA"
    assert record["archive_expires_at"] is not None
    assert record["signed_sha256"] != record["sha256"]  # the archival timestamp follows
    assert result["indication"] == "TOTAL_PASSED"
    assert result["level"] == "B-LTA"
    signatures = result["signatures"]
    assert isinstance(signatures, list)
    assert [s["kind"] for s in signatures] == ["signature", "document-timestamp"]
    assert signatures[0]["timestamp_time"] is not None
    assert signatures[0]["revocation"] == "good"
    assert signatures[0]["coverage"] == "entire-revision"
    assert signatures[1]["coverage"] == "entire-file"


def test_archive_refresh_adds_a_timestamp_and_keeps_old_copies_verifiable(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, original = issue(client, dept)

    with backend.context.sessions() as session:
        outcome = service.refresh_archives(
            session,
            backend.context.kit,
            now=datetime.now(UTC),
            within=timedelta(days=365 * 10),
            document_ids=[record["id"]],
        )
    assert outcome.refreshed == [record["id"]]
    assert outcome.failed == {}

    renewed_record = client.get(f"/api/v1/documents/{record['id']}", headers=dept.headers).json()
    renewed = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    assert renewed.startswith(original)  # an incremental update: nothing signed is rewritten
    assert renewed_record["sha256"] != record["sha256"]
    assert renewed_record["signed_sha256"] == record["signed_sha256"]
    result = upload(client, renewed)
    assert result["indication"] == "TOTAL_PASSED"
    signatures = result["signatures"]
    assert isinstance(signatures, list)
    assert [s["kind"] for s in signatures] == ["signature", "document-timestamp", "document-timestamp"]
    # A copy downloaded before the refresh is the same document.
    assert upload(client, original)["indication"] == "TOTAL_PASSED"
    # The replaced object is gone; the new one is the only one.
    keys = [info.key for info in backend.store.list("citizens/") if record["id"] in info.key]
    assert len(keys) == 1


def test_rotated_key_signs_new_documents_and_old_ones_stay_valid(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    code = dept.department.code
    _, before = issue(client, dept)
    old_key = backend.context.kit.signers.get(code).key_id

    rotate_department_key(backend.settings.keys_dir, code, dept.department.name_en)
    _, after = issue(client, dept)

    assert backend.context.kit.signers.get(code).key_id != old_key  # no restart needed
    assert upload(client, before)["indication"] == "TOTAL_PASSED"
    assert upload(client, after)["indication"] == "TOTAL_PASSED"
