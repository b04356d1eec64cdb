"""The development PKI's network services under ``/pki``: the RFC 3161 TSA, the CAs'
CRLs and OCSP responder (RFC 6960), and the CA certificates that certificates name as
caIssuers.

``pki_router`` mounts into the main app; ``responder_app`` runs the same routes alone.
Keys are read from the keys directory and kept in memory until their files change, so
rotating the TSA key or revoking a certificate needs no restart.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from trust.crl import Revocation, build_crl, parse_revocation
from trust.keys import CertifiedKey, load_certificate, load_pair
from trust.ocsp import ocsp_response, responsible_issuer, unsuccessful
from trust.paths import revocations_path, tsa_path
from trust.revoked import load_revocations
from trust.tsa import timestamp_response

TSA_QUERY_TYPE = "application/timestamp-query"
TSA_REPLY_TYPE = "application/timestamp-reply"
CRL_TYPE = "application/pkix-crl"
CERT_TYPE = "application/pkix-cert"
OCSP_REQUEST_TYPE = "application/ocsp-request"
OCSP_RESPONSE_TYPE = "application/ocsp-response"
MAX_QUERY_BYTES = 64 * 1024  # a TimeStampReq is ~100 bytes; anything near this is abuse
CRL_VALIDITY = timedelta(days=7)
CAS = ("issuing-ca", "root-ca")
OCSP_VALIDITY = timedelta(hours=24)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KeysDirProvider = Callable[[], Path]
# What identifies a file's version: a changed mtime, size or inode (atomic replace) all count.
_Stamp = tuple[int, int, int] | None


def utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(path: Path) -> _Stamp:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Unavailable(HTTPException):
    """The keys directory lacks what a route needs (503: an operator can fix it)."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail)


@dataclass(frozen=True)
class TsaKeys:
    unit: CertifiedKey
    chain: list[x509.Certificate]


@dataclass(frozen=True)
class _Crl:
    stamps: tuple[_Stamp, ...]
    built_at: datetime
    der: bytes


class PkiFiles:
    """The keys directory's TSA key, CAs and CRLs, cached until their files change.

    Safe to share between threads: a race at worst loads or builds the same thing twice.
    """

    def __init__(self, now: Clock = utc_now) -> None:
        self.now = now
        self._tsa: dict[Path, tuple[tuple[_Stamp, ...], TsaKeys]] = {}
        self._crls: dict[tuple[Path, str], _Crl] = {}
        self._certificates: dict[Path, tuple[_Stamp, bytes]] = {}
        self._pairs: dict[Path, tuple[tuple[_Stamp, ...], CertifiedKey]] = {}
        self._lock = threading.Lock()

    def tsa(self, keys_dir: Path) -> TsaKeys:
        base = tsa_path(keys_dir)
        files = (base.with_suffix(".pem"), base.with_suffix(".key"), keys_dir / "issuing-ca.pem")
        stamps = tuple(_stamp(f) for f in files)
        cached = self._tsa.get(keys_dir)
        if cached is not None and cached[0] == stamps:
            return cached[1]
        if None in stamps:
            raise Unavailable("the time-stamping authority has no key; run 'sanad keys init'")
        unit = load_pair(base)
        if unit.certificate.public_key() != unit.private_key.public_key():
            # Rotation writes the key before the certificate: we caught it in between.
            raise Unavailable("the time-stamping authority's key is being rotated; retry shortly")
        loaded = TsaKeys(unit, [load_certificate(files[2])])
        with self._lock:
            self._tsa[keys_dir] = (stamps, loaded)
        return loaded

    def timestamp(self, keys_dir: Path, request_der: bytes) -> bytes:
        tsa = self.tsa(keys_dir)
        # 63 random bits: unique with overwhelming probability, without keeping a counter.
        serial = secrets.randbits(63) | 1
        return timestamp_response(request_der, tsa.unit, tsa.chain, now=self.now(), serial=serial)

    def certificate_der(self, keys_dir: Path, ca: str) -> bytes:
        path = keys_dir / f"{ca}.pem"
        stamp = _stamp(path)
        cached = self._certificates.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if stamp is None:
            raise Unavailable(f"the PKI has no {ca} certificate; run 'sanad keys init'")
        der = load_certificate(path).public_bytes(serialization.Encoding.DER)
        with self._lock:
            self._certificates[path] = (stamp, der)
        return der

    def crl(self, keys_dir: Path, ca: str) -> bytes:
        """The CA's CRL as of this request: rebuilt in every new second (its thisUpdate
        has whole seconds) or as soon as the revocations or the CA's files change. Fresh on
        request, like the OCSP answers: long-term evidence needs revocation data issued
        after a signature's timestamp (``issuer.long_term``), and a CA that publishes CRLs
        on a schedule would leave documents at B-T until its next one."""
        now = self.now().replace(microsecond=0)
        files = (revocations_path(keys_dir), keys_dir / f"{ca}.pem", keys_dir / f"{ca}.key")
        stamps = tuple(_stamp(f) for f in files)
        cached = self._crls.get((keys_dir, ca))
        if cached is not None and cached.stamps == stamps and cached.built_at == now:
            return cached.der
        if None in stamps[1:]:
            raise Unavailable(f"the PKI has no {ca} key; run 'sanad keys init'")
        try:
            revocations = [parse_revocation(entry) for entry in load_revocations(keys_dir).get(ca, [])]
        except (ValueError, TypeError, AttributeError) as e:  # bad JSON, or not the documented shape
            raise HTTPException(500, f"revocations.json is malformed: {e}") from e
        der = build_crl(
            load_pair(keys_dir / ca),
            revocations,
            this_update=now,
            next_update=now + CRL_VALIDITY,
            number=int(now.timestamp()),
        )
        with self._lock:
            self._crls[(keys_dir, ca)] = _Crl(stamps, now, der)
        return der

    def _pair(self, keys_dir: Path, ca: str) -> CertifiedKey | None:
        """The CA's certificate and key, or None if it has none."""
        base = keys_dir / ca
        stamps = (_stamp(base.with_suffix(".pem")), _stamp(base.with_suffix(".key")))
        cached = self._pairs.get(base)
        if cached is not None and cached[0] == stamps:
            return cached[1]
        if None in stamps:
            return None
        pair = load_pair(base)
        with self._lock:
            self._pairs[base] = (stamps, pair)
        return pair

    def ocsp(self, keys_dir: Path, request_der: bytes) -> bytes:
        """The OCSPResponse to a DER OCSPRequest, from the CA its certificates name (the
        issuing CA for everything else), current to the latest revocation."""
        pairs = [(ca, pair) for ca in CAS if (pair := self._pair(keys_dir, ca)) is not None]
        if not pairs or pairs[0][0] != "issuing-ca":
            raise Unavailable("the PKI has no issuing-ca key; run 'sanad keys init'")
        chosen = responsible_issuer(request_der, [pair for _, pair in pairs])
        ca, issuer = next(((ca, pair) for ca, pair in pairs if pair is chosen), pairs[0])
        try:
            revocations: dict[int, Revocation] = {
                revocation.serial: revocation
                for revocation in (parse_revocation(entry) for entry in load_revocations(keys_dir).get(ca, []))
            }
        except (ValueError, TypeError, AttributeError):  # bad JSON, or not the documented shape
            log.exception("revocations.json is malformed; answering OCSP requests with internalError")
            return unsuccessful("internal_error")
        return ocsp_response(request_der, issuer, status_of=revocations.get, now=self.now(), validity=OCSP_VALIDITY)


async def _read_query(request: Request, expected: str = TSA_QUERY_TYPE, what: str = "TimeStampReq") -> bytes:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != expected:
        raise HTTPException(415, f"send the {what} as {expected}")
    too_large = HTTPException(413, f"a {what} must not exceed {MAX_QUERY_BYTES} bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_QUERY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():  # chunked bodies have no Content-Length to trust
        body += chunk
        if len(body) > MAX_QUERY_BYTES:
            raise too_large
    return bytes(body)


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"description": "The PKI is not set up."}}


def pki_router(keys_dir: KeysDirProvider, *, now: Clock = utc_now) -> APIRouter:
    """The ``/pki`` routes. ``keys_dir`` is called on each request (e.g. ``lambda:
    settings.keys_dir``); ``now`` pins the clock in tests."""
    files = PkiFiles(now)
    router = APIRouter(prefix="/pki", tags=["pki"])

    @router.post(
        "/tsa",
        response_class=Response,
        responses={
            200: {"content": {TSA_REPLY_TYPE: {}}, "description": "A TimeStampResp (granted or rejection)."},
            413: {"description": "The request body is too large."},
            415: {"description": "The body is not an application/timestamp-query."},
            **_UNAVAILABLE,
        },
    )
    async def timestamp(request: Request) -> Response:
        """RFC 3161 time-stamping over HTTP (RFC 3161 §3.4): a DER TimeStampReq in, a DER
        TimeStampResp out. Bad requests get a rejection response, not an HTTP error."""
        body = await _read_query(request)
        # A token is ~0.3 ms of CPU (trust.tsa): less than a hop to the thread pool and back.
        return Response(files.timestamp(keys_dir(), body), media_type=TSA_REPLY_TYPE)

    ocsp_responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {OCSP_RESPONSE_TYPE: {}}, "description": "An OCSPResponse (successful or not)."},
        **_UNAVAILABLE,
    }

    @router.post(
        "/ocsp",
        response_class=Response,
        responses={
            **ocsp_responses,
            413: {"description": "The request body is too large."},
            415: {"description": "The body is not an application/ocsp-request."},
        },
    )
    async def ocsp_post(request: Request) -> Response:
        """OCSP over HTTP (RFC 6960 A.1): a DER OCSPRequest in, a DER OCSPResponse out, for
        certificates of either CA. Bad requests get malformedRequest, certificates of other
        CAs unauthorized, both as OCSP responses rather than HTTP errors."""
        body = await _read_query(request, OCSP_REQUEST_TYPE, "OCSPRequest")
        der = await run_in_threadpool(files.ocsp, keys_dir(), body)
        return Response(der, media_type=OCSP_RESPONSE_TYPE)

    @router.get("/ocsp/{encoded:path}", response_class=Response, responses={**ocsp_responses, 414: {}})
    def ocsp_get(encoded: str) -> Response:
        """The GET form (RFC 6960 A.1): the base64 of the DER OCSPRequest, URL-encoded, as
        the last path segment. Cacheable for a minute."""
        if len(encoded) > MAX_QUERY_BYTES * 4 // 3 + 4:
            raise HTTPException(414, f"an OCSPRequest must not exceed {MAX_QUERY_BYTES} bytes")
        try:
            request_der = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            der = unsuccessful("malformed_request")
        else:
            der = files.ocsp(keys_dir(), request_der)
        return Response(der, media_type=OCSP_RESPONSE_TYPE, headers={"Cache-Control": "max-age=60"})

    def ca_routes(ca: str) -> None:
        @router.get(
            f"/crl/{ca}.crl",
            response_class=Response,
            responses={200: {"content": {CRL_TYPE: {}}}, **_UNAVAILABLE},
            name=f"{ca}_crl",
            summary=f"The {ca} CRL",
        )
        def crl() -> Response:
            """DER CRL, valid for seven days; current to the latest revocation."""
            return Response(files.crl(keys_dir(), ca), media_type=CRL_TYPE, headers={"Cache-Control": "max-age=60"})

        @router.get(
            f"/ca/{ca}.cer",
            response_class=Response,
            responses={200: {"content": {CERT_TYPE: {}}}, **_UNAVAILABLE},
            name=f"{ca}_certificate",
            summary=f"The {ca} certificate",
        )
        def certificate() -> Response:
            """DER certificate, as named by caIssuers in the certificates it issued."""
            return Response(files.certificate_der(keys_dir(), ca), media_type=CERT_TYPE)

    for ca in CAS:
        ca_routes(ca)
    return router


def responder_app(keys_dir: Path, *, now: Clock = utc_now) -> FastAPI:
    """The ``/pki`` routes alone, e.g. ``uvicorn --factory trust.responder:standalone_app``."""
    app = FastAPI(title="Sanad development PKI", version="1.0")
    app.include_router(pki_router(lambda: keys_dir, now=now))
    return app


def standalone_app() -> FastAPI:
    """``responder_app`` for the configured keys directory (``SANAD_KEYS_DIR``)."""
    from sanad.settings import Settings

    return responder_app(Settings().keys_dir)
