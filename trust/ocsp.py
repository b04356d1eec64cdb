"""OCSP responses (RFC 6960) for the development CAs.

The responder is CRL-backed: a CA knows which serials it revoked (``revocations.json``),
not every serial it issued. A serial it has no revocation record for is therefore
answered "good", which RFC 6960 (section 2.2) allows ("good" says the certificate is not
revoked, not that it was issued) and which is what CRL-backed responders commonly do;
"unknown" would make validators such as pyHanko reject every certificate we answer for.
Only the serial's issuer is checked: a CertID naming another CA is "unauthorized".

Each CA signs its own responses (no delegated responder certificate), names itself by
key hash (responderID byKey) and includes its certificate so clients need not look it up.
A request nonce (RFC 8954) is echoed byte for byte.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from asn1crypto import core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from trust.crl import Revocation
from trust.keys import CertifiedKey

log = logging.getLogger(__name__)

DEFAULT_VALIDITY = timedelta(hours=24)
# CertID hash algorithms we can match (asn1crypto's names are hashlib's names).
_CERT_ID_HASHES = ("sha1", "sha224", "sha256", "sha384", "sha512")

StatusOf = Callable[[int], Revocation | None]


class _Malformed(ValueError):
    pass


def unsuccessful(status: str) -> bytes:
    """An OCSPResponse without a body: ``malformed_request``, ``internal_error``,
    ``try_later`` or ``unauthorized`` (asn1crypto's names)."""
    return bytes(asn1_ocsp.OCSPResponse({"response_status": status}).dump())


def _parse(request_der: bytes) -> asn1_ocsp.OCSPRequest:
    try:
        request = asn1_ocsp.OCSPRequest.load(request_der, strict=True)
        request.native  # noqa: B018 (asn1crypto parses lazily: force the whole structure now)
        if len(request["tbs_request"]["request_list"]) == 0:
            raise _Malformed("the request lists no certificates")
    except _Malformed:
        raise
    except Exception as e:  # any parse failure of untrusted input is a malformed request
        raise _Malformed(str(e)) from e
    return request


def _issuer_hashes(issuer: CertifiedKey, algorithm: str) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of ``issuer`` for a CertID hashed with ``algorithm``."""
    certificate = asn1_x509.Certificate.load(issuer.certificate.public_bytes(serialization.Encoding.DER))
    name = certificate.subject.dump()
    key = bytes(certificate.public_key["public_key"])  # the BIT STRING's value, as RFC 6960 says
    return hashlib.new(algorithm, name).digest(), hashlib.new(algorithm, key).digest()


def _names(issuer: CertifiedKey, cert_id: asn1_ocsp.CertId) -> bool:
    """Whether ``cert_id`` names a certificate issued by ``issuer``."""
    algorithm = cert_id["hash_algorithm"]["algorithm"].native
    if algorithm not in _CERT_ID_HASHES:
        return False
    name_hash, key_hash = _issuer_hashes(issuer, algorithm)
    return bool(cert_id["issuer_name_hash"].native == name_hash and cert_id["issuer_key_hash"].native == key_hash)


def responsible_issuer(request_der: bytes, issuers: Sequence[CertifiedKey]) -> CertifiedKey | None:
    """The one of ``issuers`` that every CertID in the request names, or None (malformed
    request, or certificates of other or of several CAs)."""
    try:
        request = _parse(request_der)
    except _Malformed:
        return None
    cert_ids = [single["req_cert"] for single in request["tbs_request"]["request_list"]]
    for issuer in issuers:
        if all(_names(issuer, cert_id) for cert_id in cert_ids):
            return issuer
    return None


def _status(revocation: Revocation | None) -> asn1_ocsp.CertStatus:
    if revocation is None:
        return asn1_ocsp.CertStatus(name="good", value=core.Null())
    info: dict[str, object] = {"revocation_time": revocation.revoked_at.replace(microsecond=0)}
    if revocation.reason is not None:
        # cryptography's ReasonFlags member names are asn1crypto's CRLReason names.
        info["revocation_reason"] = revocation.reason.name
    return asn1_ocsp.CertStatus(name="revoked", value=asn1_ocsp.RevokedInfo(info))


def ocsp_response(
    request_der: bytes,
    issuer: CertifiedKey,
    *,
    status_of: StatusOf,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
) -> bytes:
    """A DER OCSPResponse to ``request_der`` signed by ``issuer``'s own key.

    ``status_of(serial)`` gives the serial's revocation, or None for "good". Never raises
    on bad input: a request that does not parse gets ``malformedRequest``, one naming a
    certificate of another CA ``unauthorized``.
    """
    try:
        request = _parse(request_der)
    except _Malformed as e:
        log.info("malformed OCSP request: %s", e)
        return unsuccessful("malformed_request")
    tbs_request = request["tbs_request"]
    cert_ids = [single["req_cert"] for single in tbs_request["request_list"]]
    if not all(_names(issuer, cert_id) for cert_id in cert_ids):
        return unsuccessful("unauthorized")

    produced = now.replace(microsecond=0)
    responses = [
        asn1_ocsp.SingleResponse(
            {
                "cert_id": asn1_ocsp.CertId.load(cert_id.dump()),
                "cert_status": _status(status_of(cert_id["serial_number"].native)),
                "this_update": produced,
                "next_update": produced + validity,
            }
        )
        for cert_id in cert_ids
    ]
    extensions = [
        asn1_ocsp.ResponseDataExtension.load(extension.dump())  # the nonce, byte for byte
        for extension in tbs_request["request_extensions"] or []
        if extension["extn_id"].native == "nonce"
    ]
    certificate = asn1_x509.Certificate.load(issuer.certificate.public_bytes(serialization.Encoding.DER))
    data: dict[str, object] = {
        "version": "v1",
        "responder_id": asn1_ocsp.ResponderId(name="by_key", value=certificate.public_key.sha1),
        "produced_at": produced,
        "responses": responses,
    }
    if extensions:
        data["response_extensions"] = extensions
    tbs = asn1_ocsp.ResponseData(data)
    signature = issuer.private_key.sign(tbs.dump(), ec.ECDSA(hashes.SHA256()))
    basic = asn1_ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
            "certs": [certificate],
        }
    )
    response = asn1_ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )
    return bytes(response.dump())
