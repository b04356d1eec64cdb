"""Sealing the partner credentials a department registers (the pull API key, the push
client secret): they must be usable, not only checkable, so they are encrypted rather
than hashed. The sealing key is derived from ``SANAD_SECRET_KEY``, so the secret itself
comes from the environment and a copy of the database alone reveals nothing."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"sanad digilocker partner credentials v1"


class CredentialsUnreadable(Exception):
    """A sealed credential does not open with this deployment's secret key (it was
    changed): configure the department again."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, value: str) -> str:
    return _fernet(secret_key).encrypt(value.encode()).decode("ascii")


def unseal(secret_key: str, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode()
    except InvalidToken as e:
        raise CredentialsUnreadable("a DigiLocker credential no longer opens; run 'sanad digilocker configure'") from e
