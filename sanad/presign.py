"""Presigned GET links to objects in an S3 store (MinIO), and signed PUT requests, signed locally.

AWS Signature Version 4 with the signature in the query string ("Authenticating
Requests: Using Query Parameters", AWS S3 API reference): a canonical request, a string
to sign, and an HMAC-SHA256 with a key derived from the secret, the day, the region and
the service. The derived key changes once a day, so it is kept for its day: a link costs
two SHA-256 digests and one HMAC, where the SDK's generic request builder derives the
key and assembles the URL anew for every link (the locker's most frequent answer is a
redirect to one of these).

A PUT is signed the same way with the signature in its headers ("Authenticating Requests:
Using the Authorization Header"): the payload's SHA-256 is part of what is signed, so the
store refuses a body altered on the way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_LIFETIME = timedelta(days=7)
"""The longest a SigV4 query signature may stay valid."""
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _encode(value: str) -> str:
    """URI-encode as SigV4 requires: every byte but ``A-Za-z0-9-_.~``, in upper-case hex."""
    return quote(value, safe="~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class _Day:
    """What every link signed on one (UTC) day shares."""

    day: str
    scope: str
    signing_key: bytes
    leading_parameters: str
    """The algorithm and credential, encoded: the first two of the sorted query."""

    def sign(self, stamp: str, canonical: str) -> str:
        """The signature of the ``canonical`` request made at ``stamp`` (in this day)."""
        to_sign = f"{ALGORITHM}\n{stamp}\n{self.scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        return hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


class _DailyKeys:
    """The signing key of one set of credentials, derived once per (UTC) day and kept for
    it. Safe across threads: the day's key is replaced whole, never changed."""

    def __init__(self, access_key: str, secret_key: str, region: str, service: str) -> None:
        self.access_key = access_key
        self._secret = f"AWS4{secret_key}".encode()
        self.region = region
        self.service = service
        self._kept = _Day("", "", b"", "")

    def of(self, day: str) -> _Day:
        kept = self._kept
        if kept.day != day:
            key = self._secret
            for part in (day, self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            scope = f"{day}/{self.region}/{self.service}/aws4_request"
            credential = _encode(f"{self.access_key}/{scope}")
            kept = self._kept = _Day(day, scope, key, f"X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={credential}")
        return kept


def _host(endpoint: str, secure: bool) -> str:
    # A client omits the scheme's default port from its Host header; the signed host must
    # be what it sends.
    return endpoint.removesuffix(_DEFAULT_PORTS["https" if secure else "http"])


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class QuerySigner:
    """Signs GET links for one endpoint (the address browsers reach the store at) and
    one set of credentials. Safe across threads."""

    def __init__(
        self, endpoint: str, access_key: str, secret_key: str, *, secure: bool, region: str, service: str = "s3"
    ) -> None:
        self.host = _host(endpoint, secure)
        self.origin = f"{'https' if secure else 'http'}://{self.host}"
        self._keys = _DailyKeys(access_key, secret_key, region, service)

    def get_url(
        self,
        bucket: str,
        key: str,
        expires: timedelta,
        *,
        response_headers: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> str:
        """A link to GET ``key`` in ``bucket`` for ``expires`` from ``now``, the store
        answering with ``response_headers`` (``response-content-disposition`` and the like)."""
        seconds = int(expires.total_seconds())
        if not 1 <= seconds <= MAX_LIFETIME.total_seconds():
            raise ValueError("a presigned link lasts between 1 second and 7 days")
        overrides = sorted((_encode(name), _encode(value)) for name, value in (response_headers or {}).items())
        if any(not name.startswith("response-") for name, _ in overrides):
            raise ValueError("only response-* parameters may be added to a link")
        stamp = _stamp(now)
        day = self._keys.of(stamp[:8])
        # The canonical query lists the parameters sorted by name: every X-Amz-* name sorts
        # before a lower-case response-* one, so only the overrides need sorting.
        query = (
            f"{day.leading_parameters}&X-Amz-Date={stamp}&X-Amz-Expires={seconds}&X-Amz-SignedHeaders=host"
            + "".join(f"&{name}={value}" for name, value in overrides)
        )
        path = "/" + quote(f"{bucket}/{key}", safe="/~")
        canonical = f"GET\n{path}\n{query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        return f"{self.origin}{path}?{query}&X-Amz-Signature={day.sign(stamp, canonical)}"


@dataclass(frozen=True, slots=True)
class SignedPut:
    """A PUT request ready to send: its path on the endpoint, and its headers."""

    path: str
    headers: dict[str, str]


class PutSigner:
    """Signs PUT requests of objects for one endpoint (the address Sanad reaches the
    store at) and one set of credentials. Safe across threads, like :class:`QuerySigner`."""

    _SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"

    def __init__(self, endpoint: str, access_key: str, secret_key: str, *, secure: bool, region: str) -> None:
        self.host = _host(endpoint, secure)
        self._keys = _DailyKeys(access_key, secret_key, region, "s3")

    def put(
        self, bucket: str, key: str, payload_sha256: str, content_type: str, *, now: datetime | None = None
    ) -> SignedPut:
        """The signed PUT of an object whose bytes have the (hex) SHA-256 ``payload_sha256``."""
        stamp = _stamp(now)
        day = self._keys.of(stamp[:8])
        path = "/" + quote(f"{bucket}/{key}", safe="/~")
        canonical = (
            f"PUT\n{path}\n\nhost:{self.host}\nx-amz-content-sha256:{payload_sha256}\nx-amz-date:{stamp}\n\n"
            f"{self._SIGNED_HEADERS}\n{payload_sha256}"
        )
        authorization = (
            f"{ALGORITHM} Credential={self._keys.access_key}/{day.scope}, "
            f"SignedHeaders={self._SIGNED_HEADERS}, Signature={day.sign(stamp, canonical)}"
        )
        headers = {
            "Host": self.host,
            "Content-Type": content_type,
            "x-amz-content-sha256": payload_sha256,
            "x-amz-date": stamp,
            "Authorization": authorization,
        }
        return SignedPut(path, headers)
