"""The locker's errors: each one a page can explain in the reader's language. (A refused
sign-in is :mod:`accounts.exceptions`.)"""

from __future__ import annotations

from sanad.errors import Gone


class ShareGone(Gone):
    """A share link that no longer opens; ``reason`` is revoked, used or expired."""

    code = "share_gone"
    _MESSAGES = {  # noqa: RUF012 (constant)
        "revoked": "the owner has withdrawn this link",
        "used": "this single-use link has already been used",
        "expired": "this link has expired",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self._MESSAGES[reason])
        self.reason = reason
