"""A citizen moves their locker to a new mobile number with a code on each number: what
moves, what is signed out, what is written, and every refusal — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts import citizens
from accounts.citizens import OtpPolicy
from accounts.models import LockerAccount, MobileChange
from audit.models import AuditEntry
from intake.models import Application
from issuer.models import Document
from locker.i18n import MESSAGES
from sanad.mobile import masked_mobile
from sanad.models import DevMessage
from tests.conftest import Backend, IssuingDepartment
from tests.intake.helpers import apply, ensure_department
from tests.locker.conftest import issue_to, latest_code, new_mobile, sign_in, sign_in_with_forms
from tests.locker.test_pages import assert_page, csrf_of

EN = MESSAGES.translator("en")


def ask_for_codes(client: TestClient, new: str) -> httpx.Response:
    page = client.get("/locker/mobile")
    assert_page(page, 200, EN("mobile.title"))
    return client.post("/locker/mobile/codes", data={"csrf": csrf_of(page), "mobile": new})


def enter_codes(client: TestClient, old_code: str, new_code: str) -> httpx.Response:
    page = client.get("/locker/mobile")
    return client.post(
        "/locker/mobile",
        data={"csrf": csrf_of(page), "old_code": old_code, "new_code": new_code},
        follow_redirects=False,
    )


def codes_out(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> tuple[str, str, dict[str, object], tuple[str, str]]:
    """A citizen with a document, signed in on ``client``, who asked to move to a new
    number: the old and new numbers, the document, and the two codes sent."""
    old, new = new_mobile(), new_mobile()
    document = issue_to(client, dept, old)
    sign_in_with_forms(client, backend, old)
    assert ask_for_codes(client, new).status_code == 200
    return old, new, document, (latest_code(backend, old), latest_code(backend, new))


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def holders_of(backend: Backend, document_id: object) -> str | None:
    with backend.context.sessions() as s:
        return s.scalar(select(Document.holder_mobile).where(Document.id == document_id))


def account_numbers(backend: Backend, *mobiles: str) -> set[str]:
    with backend.context.sessions() as s:
        return set(s.scalars(select(LockerAccount.mobile).where(LockerAccount.mobile.in_(mobiles))))


def messages_to(backend: Backend, mobile: str, purpose: str) -> list[str]:
    with backend.context.sessions() as s:
        return list(
            s.scalars(
                select(DevMessage.body)
                .where(DevMessage.recipient == mobile, DevMessage.purpose == purpose)
                .order_by(DevMessage.id)
            )
        )


def test_the_locker_moves_with_its_documents_and_applications_and_other_sessions_end(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old, new = new_mobile(), new_mobile()
    document = issue_to(client, dept, old)
    ensure_department(backend, "REV")
    api_token = sign_in(client, backend, old)
    applied = apply(client, api_token)
    assert applied.status_code == 201, applied.text
    sign_in_with_forms(client, backend, old)

    sent = ask_for_codes(client, new)
    assert_page(sent, 200, EN("mobile.codes_sent", old=masked_mobile(old), new=masked_mobile(new)))
    moved = enter_codes(client, latest_code(backend, old), latest_code(backend, new))
    assert moved.status_code == 303, moved.text

    # The other session (the API token) is signed out; this browser stays signed in.
    assert client.get("/api/v1/locker/documents", headers=api_token).status_code == 401
    done = client.get(moved.headers["location"])
    assert_page(done, 200, EN("mobile.done"), EN("mobile.current", mobile=masked_mobile(new)))
    assert str(document["id"]) in client.get("/locker/documents").text
    assert_page(client.get("/locker/record"), 200, EN("record.action.locker.mobile_change"))

    assert holders_of(backend, document["id"]) == new
    assert account_numbers(backend, old, new) == {new}
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == applied.json()["number"]))
        assert application is not None
        assert application.mobile == new
        entry = s.scalar(
            select(AuditEntry).where(AuditEntry.action == "locker.mobile_change").order_by(AuditEntry.leaf_index.desc())
        )
    assert entry is not None
    assert entry.actor == "citizen"
    assert masked_mobile(new) in entry.entry
    assert new not in entry.entry  # the permanent log keeps no whole number
    assert '"documents":1' in entry.entry.replace(" ", "")
    assert '"applications":1' in entry.entry.replace(" ", "")
    assert [masked_mobile(new) in m for m in messages_to(backend, old, "notice")] == [True]
    assert [masked_mobile(old) in m for m in messages_to(backend, new, "notice")] == [True]

    # The new number opens the locker, with the application.
    on_new = sign_in(client, backend, new)
    assert [d["id"] for d in client.get("/api/v1/locker/documents", headers=on_new).json()["items"]] == [document["id"]]
    mine = client.get("/api/v1/applications", headers=on_new)
    assert applied.json()["number"] in mine.text


def test_a_number_that_already_has_a_locker_is_refused_and_nothing_merges(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old, taken = new_mobile(), new_mobile()
    document = issue_to(client, dept, old)
    sign_in(client, backend, taken)
    sign_in_with_forms(client, backend, old)

    refused = ask_for_codes(client, taken)

    assert_page(refused, 409, EN("mobile.number_taken"))
    assert len(messages_to(backend, taken, "otp")) == 1  # its sign-in code only
    assert len(messages_to(backend, old, "otp")) == 1
    assert holders_of(backend, document["id"]) == old
    assert account_numbers(backend, old, taken) == {old, taken}


def test_a_number_that_gets_a_locker_while_the_codes_are_out_is_refused_at_the_end(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old, new, document, codes = codes_out(client, backend, dept)
    sign_in(client, backend, new)  # the new number's owner opens a locker meanwhile

    refused = enter_codes(client, *codes)

    assert_page(refused, 409, EN("mobile.number_taken"))
    assert holders_of(backend, document["id"]) == old
    assert account_numbers(backend, old, new) == {old, new}


@pytest.mark.parametrize("typed", ["same", "invalid"])
def test_the_same_number_or_no_number_is_refused(client: TestClient, backend: Backend, typed: str) -> None:
    old = new_mobile()
    sign_in_with_forms(client, backend, old)

    refused = ask_for_codes(client, old if typed == "same" else "12345")

    message = EN("mobile.same_number") if typed == "same" else EN("error.invalid_mobile")
    assert_page(refused, 422)
    assert message in unescape(refused.text)
    assert len(messages_to(backend, old, "otp")) == 1  # its sign-in code only


def test_wrong_codes_are_counted_and_void_the_pair_like_a_sign_in_code(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old, new, document, (old_code, new_code) = codes_out(client, backend, dept)

    swapped = enter_codes(client, new_code, old_code)
    one_wrong = enter_codes(client, old_code, other_code(new_code))
    for _ in range(2):
        enter_codes(client, other_code(old_code), new_code)
    last = enter_codes(client, other_code(old_code), other_code(new_code))
    right_but_too_late = enter_codes(client, old_code, new_code)

    assert_page(swapped, 401, EN("mobile.wrong_codes", left=4))
    assert_page(one_wrong, 401, EN("mobile.wrong_codes", left=3))
    assert_page(last, 401, EN("mobile.void"))
    assert_page(right_but_too_late, 401, EN("mobile.void"))
    assert holders_of(backend, document["id"]) == old
    assert account_numbers(backend, old, new) == {old}


def test_expired_codes_are_refused(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    old, new, document, codes = codes_out(client, backend, dept)

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5, seconds=5), tick=False):
        expired = enter_codes(client, *codes)

    assert_page(expired, 401, EN("mobile.expired"))
    assert holders_of(backend, document["id"]) == old
    assert account_numbers(backend, old, new) == {old}


def test_a_new_request_replaces_the_codes_of_the_one_before(client: TestClient, backend: Backend) -> None:
    old, first, second = new_mobile(), new_mobile(), new_mobile()
    sign_in_with_forms(client, backend, old)
    assert ask_for_codes(client, first).status_code == 200
    stale = latest_code(backend, old), latest_code(backend, first)
    assert ask_for_codes(client, second).status_code == 200

    with_stale_codes = enter_codes(client, *stale)
    moved = enter_codes(client, latest_code(backend, old), latest_code(backend, second))

    assert_page(with_stale_codes, 401)
    assert moved.status_code == 303
    assert account_numbers(backend, old, first, second) == {second}


def test_the_page_needs_a_signed_in_citizen_and_a_genuine_form(client: TestClient, backend: Backend) -> None:
    assert client.get("/locker/mobile", follow_redirects=False).status_code == 303
    old = new_mobile()
    sign_in_with_forms(client, backend, old)

    forged = client.post("/locker/mobile/codes", data={"csrf": "forged", "mobile": new_mobile()})

    assert forged.status_code in (400, 403)
    assert len(messages_to(backend, old, "otp")) == 1


def test_purge_forgets_the_requests_once_no_code_can_be_entered(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    _, new, _, codes = codes_out(client, backend, dept)
    assert enter_codes(client, *codes).status_code == 303

    with backend.context.sessions() as s:
        assert citizens.purge(s, OtpPolicy(), datetime.now(UTC))["mobile_changes"] == 0
        forgotten = citizens.purge(s, OtpPolicy(), datetime.now(UTC) + timedelta(days=1))["mobile_changes"]
        s.commit()
        left = s.scalar(select(func.count()).select_from(MobileChange).where(MobileChange.new_mobile == new))
    assert forgotten >= 1
    assert left == 0
