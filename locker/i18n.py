"""The locker pages' texts in English, Punjabi (Gurmukhi) and Hindi, from ``messages.yaml``
next to this module (read through :class:`web.i18n.Messages`)."""

from __future__ import annotations

from pathlib import Path

from web.i18n import Messages

MESSAGES = Messages(Path(__file__).with_name("messages.yaml"))
