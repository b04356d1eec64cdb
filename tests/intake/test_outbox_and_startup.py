"""Notices are never lost when a channel is down; a broken catalogue stops start-up."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import AppContext
from intake import outbox
from intake.exceptions import CatalogueError
from intake.models import Notification
from sanad.models import DevMessage
from sanad.notify import ChannelUnavailable, EmailChannel, LogChannel, WebhookChannel
from tests.conftest import REPO, Backend
from tests.locker.conftest import new_mobile


def queued(backend: Backend, recipient: str, now: datetime) -> None:
    """One notice due at ``now``, the only one due: what earlier tests left pending is
    delivered first (a round takes the oldest 100, which would not reach this one)."""
    drained = {name: LogChannel() for name in ("sms", "whatsapp", "email")}
    outbox.dispatch(backend.context.sessions, drained, now, limit=1_000_000)
    with backend.context.sessions() as s:
        outbox.enqueue(
            s,
            recipients={"sms": recipient},
            purpose="application_submitted",
            body="hello",
            application_id=None,
            now=now,
        )
        s.commit()


def row(session: Session, recipient: str) -> Notification:
    found = session.scalar(select(Notification).where(Notification.recipient == recipient))
    assert found is not None
    return found


def test_a_down_channel_delays_with_growing_waits_and_delivers_when_back(backend: Backend) -> None:
    recipient, start = new_mobile(), datetime.now(UTC)
    queued(backend, recipient, start)
    down = WebhookChannel("http://127.0.0.1:9/send", None, timeout_seconds=1)

    assert outbox.dispatch(backend.context.sessions, {"sms": down}, start)[1] >= 1
    with backend.context.sessions() as s:
        first = row(s, recipient)
        assert (first.status, first.attempts) == ("pending", 1)
        assert first.next_attempt_at == start + timedelta(minutes=1)
    outbox.dispatch(backend.context.sessions, {"sms": down}, start + timedelta(seconds=30))  # not due yet
    outbox.dispatch(backend.context.sessions, {"sms": down}, start + timedelta(minutes=1))
    with backend.context.sessions() as s:
        second = row(s, recipient)
        assert second.attempts == 2
        assert second.next_attempt_at == start + timedelta(minutes=1) + timedelta(minutes=2)

    outbox.dispatch(backend.context.sessions, {"sms": LogChannel()}, start + timedelta(minutes=3))
    with backend.context.sessions() as s:
        delivered = row(s, recipient)
        sent = s.scalar(select(DevMessage.body).where(DevMessage.recipient == recipient))
    assert (delivered.status, delivered.attempts) == ("sent", 3)
    assert sent == "hello"


def test_after_the_last_retry_a_notice_is_marked_failed_not_dropped(backend: Backend) -> None:
    recipient, moment = new_mobile(), datetime.now(UTC)
    queued(backend, recipient, moment)
    down = WebhookChannel("http://127.0.0.1:9/send", None, timeout_seconds=1)

    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.dispatch(backend.context.sessions, {"sms": down}, moment)
        moment += timedelta(hours=1)

    with backend.context.sessions() as s:
        failed = row(s, recipient)
    assert failed.status == "failed"
    assert failed.attempts == outbox.MAX_ATTEMPTS
    assert failed.last_error


def test_a_broken_catalogue_file_refuses_start_up_naming_file_and_field(backend: Backend, tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(REPO / "catalogue", catalogue)
    broken = catalogue / "rev-income.yaml"
    broken.write_text(
        broken.read_text("utf-8").replace("time_limit_working_days: 7", "time_limit_working_days: soon"), "utf-8"
    )
    settings = backend.settings.model_copy(update={"catalogue_dir": catalogue})

    with pytest.raises(CatalogueError) as error:
        AppContext.build(settings)

    assert "rev-income.yaml" in str(error.value)
    assert "time_limit_working_days" in str(error.value)


def test_a_notice_goes_out_on_every_channel_the_applicant_can_be_reached_on(backend: Backend) -> None:
    mobile, moment = new_mobile(), datetime.now(UTC)
    email = f"applicant-{mobile}@example.in"
    with backend.context.sessions() as s:
        outbox.enqueue(
            s,
            recipients={"sms": mobile, "whatsapp": mobile, "email": email},
            purpose="application_issued",
            body="issued",
            application_id=None,
            now=moment,
        )
        s.commit()

    _, failed = outbox.dispatch(backend.context.sessions, {"sms": LogChannel(), "email": LogChannel()}, moment)

    with backend.context.sessions() as s:
        rows = {n.channel: n for n in s.scalars(select(Notification).where(Notification.body == "issued"))}
        mails = list(s.scalars(select(DevMessage.recipient).where(DevMessage.recipient == email)))
    assert (rows["sms"].status, rows["email"].status) == ("sent", "sent")
    assert mails == [email]
    # No WhatsApp channel configured here: kept and retried, never dropped.
    assert rows["whatsapp"].status == "pending"
    assert "no whatsapp channel" in (rows["whatsapp"].last_error or "")
    assert failed >= 1


def test_an_unreachable_mail_server_is_a_retryable_outage(backend: Backend) -> None:
    channel = EmailChannel("127.0.0.1", 9, "Sanad <no-reply@example.in>", None, None, timeout=1)

    with backend.context.sessions() as s, pytest.raises(ChannelUnavailable):
        channel.send(s, "someone@example.in", "hello", "test")
