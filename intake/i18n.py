"""The intake pages' texts in English, Punjabi (Gurmukhi) and Hindi, from ``messages.yaml``
next to this module (read through :class:`web.i18n.Messages`). The language is chosen as on
every page (:func:`web.i18n.pick_language`), so a citizen's choice carries from the locker
to the application forms and back."""

from __future__ import annotations

from pathlib import Path

from web.i18n import Messages

MESSAGES = Messages(Path(__file__).with_name("messages.yaml"))
