"""Messages to citizens (one-time passwords, notices) behind one interface.

``LogChannel`` is the development channel: it writes each message to the log and to the
``dev_messages`` table. ``WebhookChannel`` hands messages to a gateway adapter (SMS or
WhatsApp); ``EmailChannel`` sends e-mail over SMTP with STARTTLS.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.orm import Session

from sanad.errors import ServiceUnavailable
from sanad.logs import CLEAN_FIELD
from sanad.models import DevMessage
from sanad.settings import NotifyChannel, Settings

log = logging.getLogger(__name__)


class ChannelUnavailable(ServiceUnavailable):
    code = "notification_unavailable"


class Channel(Protocol):
    def send(self, session: Session, recipient: str, message: str, purpose: str) -> None:
        """Deliver now or raise ``ChannelUnavailable``; ``session`` is the caller's, uncommitted."""


class LogChannel:
    def send(self, session: Session, recipient: str, message: str, purpose: str) -> None:
        # The log is this channel's delivery (production refuses the channel), so the code
        # must survive the log's scrubbing of codes and numbers.
        log.warning("[dev message to %s] %s", recipient, message, extra={CLEAN_FIELD: True})
        session.add(DevMessage(recipient=recipient[:64], purpose=purpose, body=message, sent_at=datetime.now(UTC)))


class WebhookChannel:
    """POSTs ``{"to", "message", "purpose"}`` to an SMS gateway adapter; fails fast."""

    def __init__(self, url: str, token: str | None, timeout_seconds: float = 5.0) -> None:
        self.url = url
        self.token = token
        self.timeout_seconds = timeout_seconds

    def send(self, session: Session, recipient: str, message: str, purpose: str) -> None:
        body = json.dumps({"to": recipient, "message": message, "purpose": purpose}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")  # noqa: S310 (configured URL)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                if response.status >= 300:
                    raise ChannelUnavailable(f"the message gateway answered {response.status}; retry shortly")
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            log.warning("message gateway unreachable: %s", e)
            raise ChannelUnavailable("the message could not be sent; retry shortly") from e


class EmailChannel:
    """Plain-text e-mail through an SMTP server (STARTTLS when it offers it); fails fast."""

    def __init__(
        self, host: str, port: int, sender: str, username: str | None, password: str | None, timeout: float = 10.0
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, session: Session, recipient: str, message: str, purpose: str) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, recipient, "Sanad"
        mail.set_content(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as e:
            log.warning("mail server unreachable or refused: %s", e)
            raise ChannelUnavailable("the e-mail could not be sent; retry shortly") from e


SMS, WHATSAPP, EMAIL = "sms", "whatsapp", "email"


def make_channels(settings: Settings) -> dict[str, Channel]:
    """The notice channels this deployment has: SMS always; WhatsApp and e-mail when
    configured (in development, every one of them writes to the log)."""
    sms = make_channel(settings)
    if settings.notify_channel == NotifyChannel.LOG:
        return {SMS: sms, WHATSAPP: sms, EMAIL: sms}
    channels: dict[str, Channel] = {SMS: sms}
    if settings.whatsapp_webhook_url:
        channels[WHATSAPP] = WebhookChannel(settings.whatsapp_webhook_url, settings.notify_webhook_token)
    if settings.smtp_host:
        channels[EMAIL] = EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, settings.smtp_username, settings.smtp_password
        )
    return channels


def make_channel(settings: Settings) -> Channel:
    if settings.notify_channel == NotifyChannel.WEBHOOK:
        assert settings.notify_webhook_url is not None  # the settings validator demands it
        return WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_token)
    return LogChannel()
