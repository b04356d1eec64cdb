"""A pyHanko time-stamp client over plain HTTP with the standard library.

pyHanko's own HTTP clients need ``requests`` or an aiohttp session; this one posts with
``urllib`` on a worker thread, so signing code can timestamp against the development
TSA (``POST /pki/tsa``) or any RFC 3161 server without extra dependencies.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from trust.tsa import TimeStampResponse

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
# Bound what we read: a token with a few certificates is a few KB.
MAX_REPLY_BYTES = 1024 * 1024


class HttpTimeStamper(TimeStamper):
    """Requests RFC 3161 timestamps from ``url``. Transport failures, non-2xx answers,
    wrong content types and rejections all raise ``TimestampRequestError``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"timestamp URL must be http(s): {url!r}")
        super().__init__()  # type: ignore[no-untyped-call]
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        body = await asyncio.to_thread(self._post, req.dump())
        response = _parse_reply(body, self.url)
        self._notice_rotation(response)
        return response

    def _notice_rotation(self, response: tsp.TimeStampResp) -> None:
        """pyHanko embeds revocation data for the TSA certificates of a sample token it
        caches for this object's life (``TimeStamper._certs``). A token signed by another
        certificate means the TSA's key was rotated: drop the sample so the next signature
        takes a fresh one. Replaced, not cleared: other threads may be iterating it."""
        known: dict[Any, Any] = self._certs
        if not known:
            return  # no sample yet: this may be the request for it
        signed_data = response["time_stamp_token"]["content"]
        sid = signed_data["signer_infos"][0]["sid"]
        if sid.name != "issuer_and_serial_number":
            return
        for choice in signed_data["certificates"] or []:
            certificate = choice.chosen
            if (
                certificate.serial_number == sid.chosen["serial_number"].native
                and certificate.issuer_serial not in known
            ):
                self._dummy_response_cache = {}
                self._certs = {}
                return

    def _post(self, body: bytes) -> bytes:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.url, data=body, method="POST", headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                content_type = response.headers.get_content_type()
                data: bytes = response.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as e:
            e.close()  # it holds the connection open
            raise TimestampRequestError(f"timestamp server {self.url} answered HTTP {e.code} {e.reason}") from e
        except OSError as e:  # URLError, timeouts, refused connections
            raise TimestampRequestError(f"could not reach timestamp server {self.url}: {e}") from e
        if content_type != REPLY_TYPE:
            raise TimestampRequestError(
                f"timestamp server {self.url} answered {content_type!r}, expected {REPLY_TYPE!r}"
            )
        if len(data) > MAX_REPLY_BYTES:
            raise TimestampRequestError(f"timestamp server {self.url} sent a reply over {MAX_REPLY_BYTES} bytes")
        return data


def _parse_reply(body: bytes, url: str) -> tsp.TimeStampResp:
    # Read the status with a schema whose token is optional: asn1crypto's own
    # TimeStampResp cannot parse a rejection, which carries no token.
    try:
        status = TimeStampResponse.load(body, strict=True)["status"]
        granted = status["status"].native in ("granted", "granted_with_mods")
    except Exception as e:  # asn1crypto raises assorted types on malformed input
        raise TimestampRequestError(f"timestamp server {url} sent an unreadable reply ({e})") from e
    if not granted:
        text = "; ".join(status["status_string"].native or []) or "no reason given"
        failure = ", ".join(sorted(status["fail_info"].native or [])) or "unspecified"
        raise TimestampRequestError(
            f"timestamp server {url} refused the request ({status['status'].native}: {text}; failure: {failure})"
        )
    return tsp.TimeStampResp.load(body)
