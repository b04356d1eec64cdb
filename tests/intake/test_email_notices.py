"""Notices go to an e-mail address typed into a form only once its reader has confirmed
it: until then the address gets the one-time link asking for that, and nothing else."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts import emails
from accounts.models import EmailAddress, StaffRole
from intake.models import Notification
from tests.conftest import Backend
from tests.intake.helpers import INCOME_FORM, apply, ensure_department, staff_headers
from tests.locker.conftest import new_mobile, sign_in


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def mail_to(backend: Backend, address: str) -> list[tuple[str, str]]:
    """(purpose, body) of every message for ``address``, oldest first."""
    with backend.context.sessions() as s:
        rows = s.execute(
            select(Notification.purpose, Notification.body)
            .where(Notification.recipient == address)
            .order_by(Notification.id)
        )
        return [(purpose, body) for purpose, body in rows]


def applied_with_email(client: TestClient, headers: dict[str, str], email: str) -> str:
    response = apply(client, headers, form={**INCOME_FORM, "email": email})
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def reject(client: TestClient, officer: dict[str, str], number: str) -> None:
    url = f"/api/v1/applications/{number}/decisions"
    response = client.post(url, json={"action": "reject", "remarks": "income proof unreadable"}, headers=officer)
    assert response.status_code == 200, response.text


def applicant(client: TestClient, backend: Backend, name: str) -> tuple[str, str, dict[str, str]]:
    """A signed-in citizen's mobile number, an address of theirs, and their headers."""
    mobile = new_mobile()
    return mobile, f"{name}-{mobile}@example.in", sign_in(client, backend, mobile)


def link_in(body: str) -> str:
    match = re.search(r"http://\S+(/email/confirm/[\w-]+)", body)
    assert match, body
    return match.group(1)


def test_an_unconfirmed_address_gets_only_the_link_until_its_reader_confirms(
    client: TestClient, backend: Backend
) -> None:
    mobile, email, headers = applicant(client, backend, "applicant")
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")

    first = applied_with_email(client, headers, email)
    reject(client, officer, first)
    second = applied_with_email(client, headers, email)  # within a day: no second link

    assert [purpose for purpose, _ in mail_to(backend, email)] == ["email_link"]
    link_message = mail_to(backend, email)[0][1]
    assert f"{mobile[:2]}xxxxxx{mobile[-2:]}" in link_message
    assert mobile not in link_message
    link = link_in(link_message)

    # Opening the link (a mail scanner does) confirms nothing; only the button does.
    page = client.get(link)
    assert page.status_code == 200
    assert email in page.text
    assert "Yes, send them to this address" in page.text
    reject(client, officer, second)
    assert [purpose for purpose, _ in mail_to(backend, email)] == ["email_link"]

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    confirmed = client.post(link, data={"csrf": csrf.group(1)})
    assert confirmed.status_code == 200
    assert 'data-testid="email-confirmed"' in confirmed.text

    third = applied_with_email(client, headers, email)
    reject(client, officer, third)
    purposes = [purpose for purpose, _ in mail_to(backend, email)]
    assert purposes == ["email_link", "application_submitted", "application_rejected"]
    assert third in mail_to(backend, email)[-1][1]
    used_again = client.post(link, data={"csrf": csrf.group(1)})
    assert used_again.status_code == 404


def test_a_link_works_for_seven_days_and_a_day_later_a_new_one_may_be_sent(
    client: TestClient, backend: Backend
) -> None:
    mobile, email, headers = applicant(client, backend, "late")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        applied_with_email(client, headers, email)
    first_link = link_in(mail_to(backend, email)[0][1])

    with time_machine.travel(start + timedelta(days=7, minutes=1), tick=False):
        expired = client.get(first_link)
    with backend.context.sessions() as s:
        too_soon = emails.new_link(s, mobile, email.replace("example.in", "Example.IN"), start + timedelta(hours=23))
        next_day = emails.new_link(s, mobile, email, start + timedelta(days=1, minutes=1))
        s.commit()

    assert expired.status_code == 404
    assert "not valid" in expired.text
    assert too_soon is None
    assert next_day is not None
    # The newer link replaces the older one.
    assert client.get(first_link).status_code == 404
    assert client.get(f"/email/confirm/{next_day}").status_code == 200


def test_an_unknown_link_is_404(client: TestClient) -> None:
    assert client.get("/email/confirm/not-a-real-link").status_code == 404
    assert client.get("/email/confirm/" + "x" * 300).status_code == 404


def test_addresses_never_confirmed_are_forgotten_once_their_link_expired(backend: Backend) -> None:
    mobile, start = new_mobile(), datetime.now(UTC)
    unwanted, wanted = f"stranger-{mobile}@example.in", f"mine-{mobile}@example.in"
    with backend.context.sessions() as s:
        emails.new_link(s, mobile, unwanted, start)
        token = emails.new_link(s, mobile, wanted, start)
        assert token is not None
        assert emails.confirm(s, token, start) is not None
        s.commit()

    def remembered() -> list[str]:
        with backend.context.sessions() as s:
            return sorted(s.scalars(select(EmailAddress.email).where(EmailAddress.mobile == mobile)))

    for days in (6, 8):
        with backend.context.sessions() as s:
            emails.forget_unconfirmed(s, start + timedelta(days=days))
            s.commit()
        if days == 6:
            assert remembered() == [wanted, unwanted]  # its link still works
    assert remembered() == [wanted]


def test_the_longest_address_a_form_accepts_gets_its_link(backend: Backend) -> None:
    longest = "a" * (254 - len("@example.in")) + "@example.in"
    with backend.context.sessions() as s:
        token = emails.new_link(s, new_mobile(), longest, datetime.now(UTC))
        s.commit()

    assert token is not None
