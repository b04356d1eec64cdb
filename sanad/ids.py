"""Unguessable identifiers and secrets."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_document_id() -> str:
    """128 random bits as 26 lowercase base32 characters: not enumerable, QR-friendly."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def new_citizen_ref() -> str:
    return secrets.token_hex(16)


def new_api_key(department_code: str) -> str:
    return f"sk_{department_code.lower()}_{secrets.token_urlsafe(32)}"


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
