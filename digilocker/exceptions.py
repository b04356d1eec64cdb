"""The DigiLocker domain's errors (HTTP answers through the ``SanadError`` handler).

SanadError
├── InvalidSignature      401: x-digilocker-hmac missing or made with no registered key
└── PayloadTooLarge       413: a pull request over MAX_PULL_BODY_BYTES (sanad.errors)
"""

from __future__ import annotations

from sanad.errors import SanadError


class InvalidSignature(SanadError):
    status_code = 401
    code = "invalid_signature"
