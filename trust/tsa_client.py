"""A pyHanko time-stamp client over HTTP(S) with the standard library.

pyHanko's own HTTP clients need ``requests`` or an aiohttp session; this one posts over
plain sockets, so signing code can timestamp against the development TSA (``POST
/pki/tsa``) or any RFC 3161 server without extra dependencies. Connections are kept
alive between requests (``trust.http_connections``): a signature then pays no
TCP or TLS handshake of its own. A TSA the environment reaches through a proxy
(``HTTPS_PROXY``) gets a connection through it for each request.
"""

from __future__ import annotations

import asyncio
import http.client
from typing import Any

from asn1crypto import core, tsp
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from trust.http_connections import POOL, post_through_proxy, proxied
from trust.tsa import TimeStampResponse

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
# Bound what we read: a token with a few certificates is a few KB.
MAX_REPLY_BYTES = 1024 * 1024


class HttpTimeStamper(TimeStamper):
    """Requests RFC 3161 timestamps from ``url``. Transport failures, non-2xx answers,
    wrong content types, rejections and tokens that do not answer the request all raise
    ``TimestampRequestError``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"timestamp URL must be http(s): {url!r}")
        super().__init__()  # type: ignore[no-untyped-call]
        self.url = url
        self.timeout = timeout
        self._through_proxy = proxied(url)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> TimeStampResponse:
        """The answer to ``req``, asked for on a worker thread: the caller's event loop
        goes on meanwhile (a chunk's document timestamps overlap their waits)."""
        return await asyncio.to_thread(self.request, req)

    def request(self, req: tsp.TimeStampReq) -> TimeStampResponse:
        """The answer to ``req``, asked for on the calling thread: for a caller with
        nothing to overlap, where the hop to a worker thread and back cost ~0.2 ms of CPU
        a timestamp. Checked exactly as :meth:`async_request_tsa_response` checks it."""
        response = _parse_reply(self._post(req.dump()), self.url)
        _check_answers_request(response, req, self.url)
        self._notice_rotation(response)
        return response

    def _notice_rotation(self, response: TimeStampResponse) -> None:
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
        post = post_through_proxy if self._through_proxy else POOL.post
        try:
            reply = post(
                self.url,
                body,
                {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
                timeout=self.timeout,
                limit=MAX_REPLY_BYTES,
            )
        except (OSError, http.client.HTTPException) as e:  # refused, timed out, reset, garbled
            raise TimestampRequestError(f"could not reach timestamp server {self.url}: {e}") from e
        if not 200 <= reply.status < 300:
            raise TimestampRequestError(f"timestamp server {self.url} answered HTTP {reply.status} {reply.reason}")
        if reply.content_type != REPLY_TYPE:
            raise TimestampRequestError(
                f"timestamp server {self.url} answered {reply.content_type!r}, expected {REPLY_TYPE!r}"
            )
        if len(reply.body) > MAX_REPLY_BYTES:
            raise TimestampRequestError(f"timestamp server {self.url} sent a reply over {MAX_REPLY_BYTES} bytes")
        return reply.body


def _parse_reply(body: bytes, url: str) -> TimeStampResponse:
    """Parse a reply once, with a schema whose token is optional: asn1crypto's own
    TimeStampResp cannot parse a rejection, which carries none. Ours has the same fields,
    so pyHanko reads the granted token from it as from its own."""
    try:
        response: TimeStampResponse = TimeStampResponse.load(body, strict=True)
        status = response["status"]
        granted = status["status"].native in ("granted", "granted_with_mods")
        has_token = not isinstance(response["time_stamp_token"], core.Void)
    except Exception as e:  # asn1crypto raises assorted types on malformed input
        raise TimestampRequestError(f"timestamp server {url} sent an unreadable reply ({e})") from e
    if not granted:
        text = "; ".join(status["status_string"].native or []) or "no reason given"
        failure = ", ".join(sorted(status["fail_info"].native or [])) or "unspecified"
        raise TimestampRequestError(
            f"timestamp server {url} refused the request ({status['status'].native}: {text}; failure: {failure})"
        )
    if not has_token:
        raise TimestampRequestError(f"timestamp server {url} granted the request but sent no token")
    return response


def _check_answers_request(response: TimeStampResponse, req: tsp.TimeStampReq, url: str) -> None:
    """A token for another digest would put a timestamp into the signature that no
    validator accepts, and one with another nonce may be a replay: refuse both here,
    while the signature can still be retried. (pyHanko compares nonces too, but a
    mismatch breaks its error message into an AttributeError.)"""
    try:
        tst_info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
        imprint, asked = tst_info["message_imprint"], req["message_imprint"]
        # Algorithms compared by name: a server may spell absent parameters as NULL.
        same_imprint = (
            imprint["hash_algorithm"]["algorithm"].native == asked["hash_algorithm"]["algorithm"].native
            and imprint["hashed_message"].native == asked["hashed_message"].native
        )
        asked_nonce = req["nonce"].native
        same_nonce = asked_nonce is None or tst_info["nonce"].native == asked_nonce
    except Exception as e:  # asn1crypto raises assorted types on malformed input
        raise TimestampRequestError(f"timestamp server {url} sent an unreadable token ({e})") from e
    if not same_imprint:
        raise TimestampRequestError(f"timestamp server {url} sent a token for another document digest")
    if not same_nonce:
        raise TimestampRequestError(f"timestamp server {url} sent a token with another nonce than the request's")
