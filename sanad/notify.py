"""Messages to citizens (one-time passwords, notices) behind one interface.

``LogChannel`` is the development channel: it writes each message to the log and to the
``dev_messages`` table. ``WebhookChannel`` hands messages to an SMS gateway adapter.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from sanad.errors import ServiceUnavailable
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
        log.warning("[dev message to %s] %s", recipient, message)
        session.add(DevMessage(recipient=recipient, purpose=purpose, body=message, sent_at=datetime.now(UTC)))


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


def make_channel(settings: Settings) -> Channel:
    if settings.notify_channel == NotifyChannel.WEBHOOK:
        assert settings.notify_webhook_url is not None  # the settings validator demands it
        return WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_token)
    return LogChannel()
