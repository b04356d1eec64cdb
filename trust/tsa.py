"""RFC 3161 time-stamp responses for the development Time-Stamping Authority.

``timestamp_response`` turns a DER ``TimeStampReq`` into a DER ``TimeStampResp``. It is a
pure function of its inputs (the clock and the serial number are parameters), and it
never raises for bad input: a request it cannot honour gets a ``rejection`` with the
PKIFailureInfo bit that says why, as RFC 3161 §2.4.2 asks.

Tokens carry the signing-certificate-v2 attribute (RFC 5816), which ETSI EN 319 422 and
PAdES validators require to bind the token to the TSA certificate.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from trust import der
from trust.keys import CertifiedKey

DEFAULT_POLICY = "1.3.6.1.4.1.55555.1.1"
# Imprint algorithms we accept, with the digest length each must have.
DIGEST_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimeStampResponse(core.Sequence):  # type: ignore[misc]  # asn1crypto has no type hints
    """``TimeStampResp`` as RFC 3161 defines it. asn1crypto's own makes the token
    mandatory, so it can neither encode nor parse a rejection, which carries none."""

    _fields = [  # noqa: RUF012 (asn1crypto's class-level schema)
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class _Rejected(Exception):
    def __init__(self, failure: str, message: str) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message


def timestamp_response(
    request_der: bytes,
    tsa: CertifiedKey,
    chain: Sequence[x509.Certificate],
    *,
    now: datetime,
    serial: int,
    policy: str = DEFAULT_POLICY,
) -> bytes:
    """Answer ``request_der``: a granted response whose token is signed by ``tsa`` at
    ``now``, or a rejection. ``chain`` (the TSA's issuing CA) is included with the TSA
    certificate when the request sets certReq."""
    try:
        request = _checked_request(request_der, policy)
    except _Rejected as rejected:
        return rejection(rejected.failure, rejected.message)
    token = _token(request, tsa, chain, now=now, serial=serial, policy=policy)
    return der.tlv(der.SEQUENCE, _GRANTED + token)


def rejection(failure: str, message: str) -> bytes:
    """A DER rejection; ``failure`` is an asn1crypto PKIFailureInfo name (``bad_alg``…)."""
    status = {"status": "rejection", "status_string": [message], "fail_info": {failure}}
    rejected: bytes = TimeStampResponse({"status": status}).dump()
    return rejected


def _checked_request(request_der: bytes, policy: str) -> tsp.TimeStampReq:
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        request.native  # noqa: B018 (asn1crypto parses lazily; force every field now)
    except Exception as e:  # asn1crypto raises assorted types on malformed input
        raise _Rejected("bad_data_format", f"the request is not a DER TimeStampReq ({e})") from e
    if request["version"].native != "v1":
        raise _Rejected("bad_request", f"unsupported request version {request['version'].native}")
    imprint = request["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in DIGEST_LENGTHS:
        raise _Rejected("bad_alg", f"unsupported hash algorithm {algorithm}; use sha256, sha384 or sha512")
    if len(imprint["hashed_message"].native) != DIGEST_LENGTHS[algorithm]:
        raise _Rejected("bad_data_format", f"the message imprint is not a {algorithm} digest")
    requested_policy = request["req_policy"].dotted if request["req_policy"].native is not None else None
    if requested_policy not in (None, policy):
        raise _Rejected("unaccepted_policy", f"policy {requested_policy} is not offered; this TSA uses {policy}")
    if request["extensions"].native:
        raise _Rejected("unaccepted_extensions", "request extensions are not supported")
    return request


@dataclass(frozen=True)
class _Signer:
    """What every token of one TSA certificate repeats, encoded once."""

    tsa_name: bytes
    """The TSTInfo's ``tsa`` field: [0] EXPLICIT GeneralName (directoryName)."""
    signing_certificate: bytes
    """The signing-certificate-v2 attribute (RFC 5816) naming the certificate."""
    signer_info_head: bytes
    """SignerInfo version 1, the signer's issuer and serial number, the digest algorithm."""


@functools.lru_cache(maxsize=8)
def _signer(tsa_der: bytes) -> _Signer:
    """asn1crypto deep-copies a value to place it under a tag and re-encodes what it
    builds: building these for every token took ~8 ms. Parsed DER is reused as it is."""
    certificate = asn1_x509.Certificate.load(tsa_der)
    ess_cert_id = tsp.ESSCertIDv2(
        {
            # hash_algorithm defaults to sha256, and DER leaves defaults out.
            "cert_hash": hashlib.sha256(tsa_der).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName({"directory_name": certificate.issuer})],
                "serial_number": certificate.serial_number,
            },
        }
    )
    attribute = cms.CMSAttribute({"type": "signing_certificate_v2", "values": [{"certs": [ess_cert_id]}]})
    sid = cms.IssuerAndSerialNumber({"issuer": certificate.issuer, "serial_number": certificate.serial_number})
    return _Signer(
        tsa_name=der.tlv(der.CONTEXT_0, asn1_x509.GeneralName({"directory_name": certificate.subject}).dump()),
        signing_certificate=attribute.dump(),
        signer_info_head=der.integer(1) + sid.dump() + _SHA256,
    )


@functools.lru_cache(maxsize=8)
def _certificates(ders: tuple[bytes, ...]) -> bytes:
    """The SignedData's ``certificates`` field ([0] IMPLICIT CertificateSet), built once
    per chain: asn1crypto re-encodes every field of a certificate placed in a new
    structure (~8 ms a token), but copies a parsed, unmodified value as it is."""
    encoded: bytes = cms.CertificateSet([asn1_x509.Certificate.load(d) for d in ders]).dump()
    return bytes([der.CONTEXT_0]) + encoded[1:]


_SHA256: bytes = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
_ECDSA_SHA256: bytes = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump()
_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_CONTENT_TYPE_ATTRIBUTE: bytes = cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump()
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_GRANTED = der.tlv(der.SEQUENCE, der.integer(0))  # PKIStatusInfo: granted


def _cms_time(moment: datetime) -> bytes:
    # CMS Time: UTCTime through 2049, GeneralizedTime after (RFC 5652 §11.3).
    return der.utc_time(moment) if moment.year < 2050 else der.generalized_time(moment)


def _attribute(dotted: str, value: bytes) -> bytes:
    return der.tlv(der.SEQUENCE, der.oid(dotted) + der.tlv(der.SET, value))


def _token(
    request: tsp.TimeStampReq,
    tsa: CertifiedKey,
    chain: Sequence[x509.Certificate],
    *,
    now: datetime,
    serial: int,
    policy: str,
) -> bytes:
    """The DER TimeStampToken (a CMS ContentInfo): only the imprint, serial number, time,
    nonce and signature differ from one token to the next; the rest is encoded once."""
    moment = now.astimezone(UTC).replace(microsecond=0)
    tsa_der = tsa.certificate.public_bytes(serialization.Encoding.DER)
    signer = _signer(tsa_der)
    nonce = request["nonce"].native
    tst_info = der.tlv(
        der.SEQUENCE,
        der.integer(1)
        + der.oid(policy)
        + request["message_imprint"].dump()
        + der.integer(serial)
        + der.generalized_time(moment)
        + der.tlv(der.SEQUENCE, der.integer(1))  # accuracy: one second
        + (der.integer(nonce) if nonce is not None else b"")
        + signer.tsa_name,
    )
    # The signature covers the attributes' DER as a SET (RFC 5652 §5.4), whose members
    # DER sorts by their encodings (X.690 §11.6): verifiers re-encode and compare.
    members = sorted(
        (
            _CONTENT_TYPE_ATTRIBUTE,
            _attribute(_MESSAGE_DIGEST, der.tlv(der.OCTET_STRING, hashlib.sha256(tst_info).digest())),
            _attribute(_SIGNING_TIME, _cms_time(moment)),
            signer.signing_certificate,
        )
    )
    signed_attributes = b"".join(members)
    signature = tsa.private_key.sign(der.tlv(der.SET, signed_attributes), ec.ECDSA(hashes.SHA256()))
    signer_info = der.tlv(
        der.SEQUENCE,
        signer.signer_info_head
        + der.tlv(der.CONTEXT_0, signed_attributes)  # [0] IMPLICIT SET OF
        + _ECDSA_SHA256
        + der.tlv(der.OCTET_STRING, signature),
    )
    certificates = b""
    if request["cert_req"].native:
        certificates = _certificates((tsa_der, *(c.public_bytes(serialization.Encoding.DER) for c in chain)))
    signed_data = der.tlv(
        der.SEQUENCE,
        der.integer(3)  # v3: eContentType is not id-data (RFC 5652 §5.1)
        + der.tlv(der.SET, _SHA256)
        + der.tlv(
            der.SEQUENCE,
            der.oid(_TST_INFO) + der.tlv(der.CONTEXT_0, der.tlv(der.OCTET_STRING, tst_info)),
        )
        + certificates
        + der.tlv(der.SET, signer_info),
    )
    return der.tlv(der.SEQUENCE, der.oid("1.2.840.113549.1.7.2") + der.tlv(der.CONTEXT_0, signed_data))
