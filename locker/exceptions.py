"""The locker's errors: each one a page can explain in the reader's language."""

from __future__ import annotations

from sanad.errors import Gone, Unauthorized


class WrongCode(Unauthorized):
    code = "wrong_code"

    def __init__(self, attempts_left: int) -> None:
        plural = "s" if attempts_left != 1 else ""
        super().__init__(f"wrong code; {attempts_left} attempt{plural} left")
        self.attempts_left = attempts_left


class CodeVoid(Unauthorized):
    """No code can be accepted: none sent, expired, used, or too many wrong entries."""

    code = "code_void"


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
