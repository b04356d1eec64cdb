"""The DigiLocker domain's errors (HTTP answers through the ``SanadError`` handler).

SanadError
├── InvalidSignature      401: x-digilocker-hmac missing or made with no registered key
├── ApiSetuError          4xx/503 on API Setu's form, in API Setu's vocabulary
└── PayloadTooLarge       413: a pull request over MAX_PULL_BODY_BYTES (sanad.errors)
"""

from __future__ import annotations

from sanad.errors import SanadError


class InvalidSignature(SanadError):
    status_code = 401
    code = "invalid_signature"


class ApiSetuError(SanadError):
    """An answer in API Setu's error vocabulary: ``error`` and ``errorDescription`` as its
    specification words them, and ``detail``, the reason in our words."""

    def __init__(self, status_code: int, error: str, description: str, *, detail: str | None = None) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.code = error
        self.detail = detail or description
