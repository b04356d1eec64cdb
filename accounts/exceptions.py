"""Why a sign-in was refused, each a case a page can explain in the reader's language.

    Unauthorized (sanad.errors)   401
    ├── WrongCode                 a wrong one-time code; ``attempts_left`` more may follow
    └── CodeVoid                  no code can be accepted: request a new one
        └── CodeExpired           the codes' time ran out: request new ones
    Conflict (sanad.errors)       409
    └── NumberTaken               a number change to a number that already has a locker
    InvalidInput (sanad.errors)   422
    └── SameNumber                a number change to the number the locker already has

A wrong staff password is plain :class:`sanad.errors.Unauthorized`, and every limit
reached is :class:`sanad.errors.TooManyRequests`.
"""

from __future__ import annotations

from sanad.errors import Conflict, FieldError, InvalidInput, Unauthorized


class WrongCode(Unauthorized):
    code = "wrong_code"

    def __init__(self, attempts_left: int) -> None:
        plural = "s" if attempts_left != 1 else ""
        super().__init__(f"wrong code; {attempts_left} attempt{plural} left")
        self.attempts_left = attempts_left


class CodeVoid(Unauthorized):
    """No code can be accepted: none sent, expired, used, or too many wrong entries."""

    code = "code_void"


class CodeExpired(CodeVoid):
    code = "code_expired"


class NumberTaken(Conflict):
    """Lockers are never merged: the new number's locker stays its own."""

    code = "number_taken"

    def __init__(self) -> None:
        super().__init__(
            "this number already has a locker of its own; lockers are not merged: sign in with that number instead"
        )


class SameNumber(InvalidInput):
    code = "same_number"

    def __init__(self) -> None:
        super().__init__([FieldError("mobile", "this is already your locker's number")])
