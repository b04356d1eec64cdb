"""Why a sign-in was refused, each a case a page can explain in the reader's language.

    Unauthorized (sanad.errors)   401
    ├── WrongCode                 a wrong one-time code; ``attempts_left`` more may follow
    └── CodeVoid                  no code can be accepted: request a new one

A wrong staff password is plain :class:`sanad.errors.Unauthorized`, and every limit
reached is :class:`sanad.errors.TooManyRequests`.
"""

from __future__ import annotations

from sanad.errors import Unauthorized


class WrongCode(Unauthorized):
    code = "wrong_code"

    def __init__(self, attempts_left: int) -> None:
        plural = "s" if attempts_left != 1 else ""
        super().__init__(f"wrong code; {attempts_left} attempt{plural} left")
        self.attempts_left = attempts_left


class CodeVoid(Unauthorized):
    """No code can be accepted: none sent, expired, used, or too many wrong entries."""

    code = "code_void"
