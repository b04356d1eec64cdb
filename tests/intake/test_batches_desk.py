"""The desk's batches page: a department's staff see its batches with progress and
download their results and errors as CSV; another department's batches are never shown
and their files answer 404; staff of no department are refused."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from accounts.models import StaffRole
from tests.conftest import Backend, IssuingDepartment, create_department
from tests.intake.test_pages import assert_page, staff_client
from tests.issuer.batches_helpers import csv_file, row, rows_csv, run_jobs, submit


def test_staff_see_their_departments_batches_and_download_their_files(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    issued = submit(client, dept, rows_csv(2)).json()
    invalid = submit(client, dept, csv_file([row("OK-1"), row("BAD 2")])).json()
    run_jobs(backend)

    with staff_client(backend, StaffRole.OFFICER, department=dept.department.code) as desk:
        page = desk.get("/desk/batches")
        assert_page(page, 200, "Bulk issuing batches", issued["id"], invalid["id"])
        assert "2 / 2" in page.text  # rows issued of rows
        assert f"/desk/batches/{invalid['id']}/errors.csv" in page.text
        assert f"/desk/batches/{issued['id']}/errors.csv" not in page.text  # nothing to list

        results = desk.get(f"/desk/batches/{issued['id']}/results.csv")
        errors = desk.get(f"/desk/batches/{invalid['id']}/errors.csv")

    assert results.status_code == 200
    assert results.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(results.text)))
    assert table[0] == ["row", "citizen_id", "document_id", "sha256", "verify_url", "status", "error"]
    assert [line[5] for line in table[1:]] == ["issued", "issued"]
    problems = list(csv.reader(io.StringIO(errors.text)))
    assert problems[0] == ["row", "field", "message"]
    assert [(line[0], line[1]) for line in problems[1:]] == [("2", "citizen_id")]


def test_another_departments_batches_are_never_shown(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    theirs = submit(client, dept, rows_csv(1), dry_run=True).json()
    other = create_department(backend)
    ours = submit(client, other, rows_csv(1), dry_run=True).json()

    with staff_client(backend, StaffRole.DEPARTMENT_ADMIN, department=other.department.code) as desk:
        page = desk.get("/desk/batches")
        assert_page(page, 200, ours["id"])
        assert theirs["id"] not in page.text
        for path in ("results.csv", "errors.csv"):
            answer = desk.get(f"/desk/batches/{theirs['id']}/{path}")
            assert answer.status_code == 404, path


def test_staff_of_no_department_are_refused(backend: Backend) -> None:
    with staff_client(backend, StaffRole.HEAD_OFFICE, department=None) as desk:
        answer = desk.get("/desk/batches")

    assert answer.status_code == 403


def test_signing_in_comes_first(client: TestClient) -> None:
    answer = client.get("/desk/batches", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/desk/sign-in")
