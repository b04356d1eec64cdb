"""The appeals pages, on both backends: the citizen files from their application's page and
reads a refusal in their language; the appellate authority's desk lists its office's
appeals with the days left and decides; penalties show on the timeline; pendency counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from accounts.models import StaffRole
from intake.i18n import MESSAGES
from sanad.clock import today_in_india
from tests.conftest import Backend
from tests.intake.helpers import ensure_department
from tests.intake.test_appeals_api import set_appeal, set_application
from tests.intake.test_pages import applied, assert_page, decide, staff_client, stored
from tests.locker.test_pages import csrf_of

EN, PA, HI = MESSAGES.translator("en"), MESSAGES.translator("pa"), MESSAGES.translator("hi")
GROUNDS = "ਮੇਰੀ ਆਮਦਨ ਦਾ ਸਬੂਤ ਤਸਦੀਕਸ਼ੁਦਾ ਸੀ।"


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)


def rejected_with_page(client: TestClient, backend: Backend, office: str = "TEH-SMR") -> str:
    """A citizen signed in on ``client`` whose application an officer rejected; its number."""
    _, number = applied(client, backend, office)
    with staff_client(backend, StaffRole.OFFICER, office=office) as officer:
        assert decide(officer, number, "reject", remarks="income proof not attested").status_code == 303
    return number


def a_csrf_token(client: TestClient) -> str:
    """The session's form token, from a page that has a form whatever the appeal page shows
    (a form posted from a tab kept open after the appeal page changed)."""
    return csrf_of(client.get("/apply/rev-income"))


def file_with_page(client: TestClient, number: str, lang: str = "en", grounds: str = GROUNDS) -> httpx.Response:
    assert_page(client.get(f"/applications/{number}/appeal?lang={lang}"), 200)
    return client.post(
        f"/applications/{number}/appeal?lang={lang}",
        data={"csrf": a_csrf_token(client), "grounds": grounds},
        follow_redirects=False,
    )


@pytest.mark.parametrize("lang", ["en", "pa", "hi"])
def test_the_citizen_files_an_appeal_from_the_application_page(client: TestClient, backend: Backend, lang: str) -> None:
    t = MESSAGES.translator(lang)
    number = rejected_with_page(client, backend)
    application = client.get(f"/applications/{number}?lang={lang}")
    assert_page(application, 200, t("appeal.link"), f'href="/applications/{number}/appeal"')

    page = client.get(f"/applications/{number}/appeal?lang={lang}")
    assert_page(page, 200, t("appeal.title"), t("appeal.intro", days=30), t("appeal.file_first"), t("appeal.none"))
    filed = file_with_page(client, number, lang)

    assert filed.status_code == 303, filed.text
    done = client.get(filed.headers["location"])
    assert_page(done, 200, t("appeal.filed_notice"), t("appeal.level.1"), t("appeal.status.pending"), GROUNDS)
    assert 'data-testid="appeal-form"' not in done.text
    mine = client.get(f"/applications/{number}?lang={lang}")
    assert_page(mine, 200, t("event.first_appeal_filed"), 'data-kind="first_appeal_filed"')


def test_an_appeal_out_of_time_is_refused_on_the_page_in_punjabi(client: TestClient, backend: Backend) -> None:
    number = rejected_with_page(client, backend)
    set_application(backend, number, decided_at=datetime.now(UTC) - timedelta(days=45))
    until = (today_in_india() - timedelta(days=15)).strftime("%d-%m-%Y")

    page = client.get(f"/applications/{number}/appeal?lang=pa")
    assert_page(page, 200, PA("appeal.out_of_time_first", days=30, until=until))
    assert 'data-testid="appeal-form"' not in page.text
    # A form posted anyway (kept open in a tab) gets the same refusal.
    posted = file_with_page(client, number, "pa")
    assert_page(posted, 422, PA("appeal.out_of_time_first", days=30, until=until))


def test_a_timely_application_offers_no_appeal_and_grounds_are_required(client: TestClient, backend: Backend) -> None:
    _, number = applied(client, backend)
    page = client.get(f"/applications/{number}/appeal?lang=hi")
    assert_page(page, 200, HI("appeal.not_appealable_first"))
    refused = file_with_page(client, number, "hi")
    assert_page(refused, 409, HI("appeal.not_appealable_first"))

    set_application(backend, number, due_on=today_in_india() - timedelta(days=1))
    empty = file_with_page(client, number, "hi", grounds="  ")
    assert_page(empty, 422, HI("appeal.grounds_required"))
    assert 'aria-invalid="true"' in empty.text


@pytest.mark.parametrize("lang", ["en", "pa", "hi"])
def test_the_authority_decides_from_its_desk_and_the_penalty_shows_on_the_timeline(
    client: TestClient, backend: Backend, lang: str
) -> None:
    t = MESSAGES.translator(lang)
    number = rejected_with_page(client, backend)
    assert file_with_page(client, number).status_code == 303

    with staff_client(backend, StaffRole.APPROVER, office="TEH-SMR") as authority:
        desk = authority.get(f"/desk/appeals?lang={lang}")
        assert_page(desk, 200, t("appeals.desk_title"), t("appeals.desk_intro_1"), number, t("nav.appeals"))
        assert re.search(rf'data-number="{number}" data-level="1"', desk.text)
        assert "data-days-left=" in desk.text
        page = authority.get(f"/desk/appeals/{number}/1?lang={lang}")
        assert_page(page, 200, t("appeals.decide"), t("appeals.allow"), GROUNDS, t("event.rejected"))
        refused = authority.post(
            f"/desk/appeals/{number}/1",
            data={"csrf": csrf_of(page), "outcome": "allow", "reasons": "", "penalty_inr": "1²"},
        )
        assert_page(refused, 422, t("appeal.penalty_range", max=5000))
        decided = authority.post(
            f"/desk/appeals/{number}/1",
            data={
                "csrf": csrf_of(page),
                "outcome": "allow",
                "reasons": "the proof was attested",
                "penalty_inr": "1500",
                "penalty_reason": "no reasons given for the rejection",
                "version": re.findall(r'name="version" value="(\d+)"', page.text)[0],
            },
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text
        assert_page(authority.get(decided.headers["location"]), 200, t("appeals.done.allow"))

    assert stored(backend, number).status == "issued"
    mine = client.get(f"/applications/{number}?lang={lang}")
    assert_page(
        mine,
        200,
        t("event.first_appeal_allowed"),
        t("event.penalty"),
        t("step.penalty", amount=1500, officer="tehsildar"),
        "no reasons given for the rejection",
    )
    kinds = re.findall(r'class="step" data-kind="([a-z_]+)"', mine.text)
    assert kinds[-5:] == ["first_appeal_filed", "first_appeal_allowed", "penalty", "approved", "issued"]


def test_another_offices_authority_gets_404_and_an_officer_an_empty_desk(client: TestClient, backend: Backend) -> None:
    number = rejected_with_page(client, backend)
    file_with_page(client, number)

    with staff_client(backend, StaffRole.APPROVER, office="TEH-LDH") as elsewhere:
        assert number not in elsewhere.get("/desk/appeals").text
        assert_page(elsewhere.get(f"/desk/appeals/{number}/1"), 404)
    with staff_client(backend, StaffRole.OFFICER, office="TEH-SMR") as officer:
        assert_page(officer.get("/desk/appeals"), 200, EN("appeals.not_an_authority"))
        assert_page(officer.get(f"/desk/appeals/{number}/1"), 404)


def test_the_commission_hears_the_second_appeal_and_pendency_counts_it(client: TestClient, backend: Backend) -> None:
    number = rejected_with_page(client, backend, office="TEH-ASR")
    file_with_page(client, number)
    set_appeal(backend, number, 1, due_on=today_in_india() - timedelta(days=2))
    page = client.get(f"/applications/{number}/appeal")
    assert_page(page, 200, EN("appeal.file_second"), EN("appeal.status.pending"))
    assert file_with_page(client, number).status_code == 303

    with staff_client(backend, StaffRole.HEAD_OFFICE, department=None) as commission:
        desk = commission.get("/desk/appeals?lang=pa")
        assert_page(desk, 200, PA("appeals.desk_intro_2"), number)
        pendency = commission.get("/desk/pendency?office=TEH-ASR&lang=pa")
        assert_page(pendency, 200, PA("pendency.appeals"), PA("appeal.level.2"))
        second = re.search(r'data-col="second_appeals">(\d+)<', pendency.text)
        assert second
        assert int(second.group(1)) >= 1
        page = commission.get(f"/desk/appeals/{number}/2")
        dismissed = commission.post(
            f"/desk/appeals/{number}/2",
            data={"csrf": csrf_of(page), "outcome": "dismiss", "reasons": "the income is above the limit"},
            follow_redirects=False,
        )
        assert dismissed.status_code == 303, dismissed.text
    assert_page(
        client.get(f"/applications/{number}/appeal"), 200, EN("appeal.already_second"), EN("appeal.status.escalated")
    )
