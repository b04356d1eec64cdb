"""Who sent a pull request: DigiLocker signs the body with HMAC-SHA256, keyed with the
API key the department entered on the partner portal, and sends it base64-encoded in
``x-digilocker-hmac``. Deployed issuers also meet the base64 of the hexadecimal digest;
both are accepted. The body is checked before it is parsed: an unsigned body is never
read, so an unauthenticated caller learns nothing, not even whether its XML was valid."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from digilocker.configuration import PartnerRegistration

HMAC_HEADER = "x-digilocker-hmac"
#: How far a request's ``ts`` may be from our clock, either way.
TS_WINDOW = timedelta(minutes=5)
_INDIA = ZoneInfo("Asia/Kolkata")


def signatures(api_key: str, body: bytes) -> tuple[bytes, bytes]:
    """The header values DigiLocker may send for ``body``: base64 of the digest, and
    base64 of its hexadecimal form."""
    digest = hmac.new(api_key.encode(), body, hashlib.sha256)
    return base64.b64encode(digest.digest()), base64.b64encode(digest.hexdigest().encode("ascii"))


def signer_of(
    header: str | None, body: bytes, registrations: Iterable[PartnerRegistration]
) -> PartnerRegistration | None:
    """The registration whose key signed ``body``, if any. Every key and both forms are
    compared in constant time, with no early exit, so timing tells nothing."""
    if not header:
        return None
    given = header.strip().encode("ascii", "replace")
    found = None
    for registration in registrations:
        raw, hexed = signatures(registration.api_key, body)
        if (hmac.compare_digest(given, raw) | hmac.compare_digest(given, hexed)) and found is None:
            found = registration
    return found


def parse_ts(ts: str) -> datetime | None:
    """A request's ``ts``: ISO 8601 (India's time when it names no offset) or Unix time
    in seconds or milliseconds."""
    value = ts.strip()
    if value.isdigit():
        seconds = int(value)
        if seconds > 10**11:
            seconds //= 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_INDIA)


def is_fresh(ts: str, now: datetime) -> bool:
    moment = parse_ts(ts)
    return moment is not None and abs(now - moment) <= TS_WINDOW
