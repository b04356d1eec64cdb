"""The operator meets the duplicate warning in headless Chromium: the same citizen, the
same service and the same answers as an application already filed. The warning links to
it, passes axe-core, and nothing is filed until the box is ticked."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from accounts.models import StaffRole
from tests.accessibility import assert_accessible
from tests.conftest import Backend
from tests.intake.helpers import INCOME_FORM, apply, ensure_department, staff_headers
from tests.intake.test_pages import applications_of
from tests.intake.test_pages_browser import DESKTOP, new_staff
from tests.journeys.test_journeys_browser import OFFICE, chromium, desk_sign_in, files, watched
from tests.locker.conftest import new_mobile
from tests.locker.test_pages_browser import server as server  # the fixture: a real server, embedded backend


def test_an_identical_application_is_flagged_and_filed_only_when_confirmed(
    server: str, client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    ensure_department(backend, "REV")
    mobile = new_mobile()
    answers = {name: value for name, value in INCOME_FORM.items() if name != "mobile"}
    first = apply(
        client, staff_headers(client, backend, StaffRole.OPERATOR, office=OFFICE), form=answers, mobile=mobile
    )
    assert first.status_code == 201, first.text
    existing = first.json()["number"]
    aadhaar, affidavit = files(tmp_path)
    problems: list[str] = []

    with chromium() as browser:
        operator = watched(browser, problems, viewport=DESKTOP, locale="en-IN")
        desk_sign_in(operator, server, new_staff(backend, StaffRole.OPERATOR, "REV", OFFICE))
        operator.wait_for_url(f"{server}/desk/apply")
        operator.goto(f"{server}/desk/apply/rev-income")
        operator.fill("#citizen-mobile", mobile)
        for name, value in answers.items():
            control = f"#field-{name}"
            if operator.locator(f"select{control}").count():
                operator.select_option(control, str(value))
            else:
                operator.fill(control, str(value))
        operator.select_option("#office", OFFICE)
        operator.set_input_files("#attachment-aadhaar", str(aadhaar))
        operator.set_input_files("#attachment-affidavit", str(affidavit))
        operator.click("[data-testid=continue]")

        operator.wait_for_selector("[data-testid=duplicate]")
        assert existing in operator.inner_text("[data-testid=duplicate]")
        assert operator.get_attribute("[data-testid=duplicate-link]", "href") == f"/desk/receipts/{existing}"
        assert_accessible(operator)
        operator.click("[data-testid=check-submit]")  # without ticking the box
        operator.wait_for_selector("#confirm-duplicate-error")
        assert operator.get_attribute("[data-testid=duplicate]", "role") == "alert"
        assert_accessible(operator)
        assert applications_of(backend, mobile) == 1

        operator.check("#confirm-duplicate")
        operator.click("[data-testid=check-submit]")
        operator.wait_for_selector("[data-testid=receipt]")
        assert operator.inner_text("[data-testid=number]").strip() != existing
        assert applications_of(backend, mobile) == 2

    # The one error logged is the refusal meant here: the page answered 409 (Conflict).
    assert [p for p in problems if "status of 409" not in p] == []
    assert len(problems) == 1
