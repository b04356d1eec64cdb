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
    granted: bytes = TimeStampResponse({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
    return granted


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
class _Names:
    """What every token of one TSA certificate repeats, encoded once."""

    subject: bytes
    """DER of the TSA's name as a GeneralName (directoryName)."""
    signing_certificate: bytes
    """DER of the signing-certificate-v2 attribute (RFC 5816) naming the certificate."""


@functools.lru_cache(maxsize=8)
def _names(tsa_der: bytes) -> _Names:
    """asn1crypto deep-copies a value to place it under a tag and re-encodes what it
    builds: these two took ~8 ms a token. Parsed DER is reused as it is."""
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
    return _Names(
        subject=asn1_x509.GeneralName({"directory_name": certificate.subject}).dump(),
        signing_certificate=attribute.dump(),
    )


@functools.lru_cache(maxsize=8)
def _certificate_set(ders: tuple[bytes, ...]) -> bytes:
    """DER of the certificates field, built once per chain: asn1crypto re-encodes every
    field of a certificate placed in a new structure (~8 ms a token), but copies a
    parsed, unmodified value as it is."""
    encoded: bytes = cms.CertificateSet([asn1_x509.Certificate.load(der) for der in ders]).dump()
    return encoded


def _time(moment: datetime) -> cms.Time:
    # CMS Time: UTCTime through 2049, GeneralizedTime after (RFC 5652 §11.3).
    return cms.Time({"utc_time" if moment.year < 2050 else "general_time": moment})


def _token(
    request: tsp.TimeStampReq,
    tsa: CertifiedKey,
    chain: Sequence[x509.Certificate],
    *,
    now: datetime,
    serial: int,
    policy: str,
) -> cms.ContentInfo:
    moment = now.astimezone(UTC).replace(microsecond=0)
    tsa_der = tsa.certificate.public_bytes(serialization.Encoding.DER)
    tsa_cert = asn1_x509.Certificate.load(tsa_der)
    names = _names(tsa_der)
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": policy,
            "message_imprint": request["message_imprint"].copy(),
            "serial_number": serial,
            "gen_time": moment,
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName.load(names.subject),
        }
    )
    if request["nonce"].native is not None:
        tst_info["nonce"] = request["nonce"].native
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(tst_info.dump()).digest()]}),
            cms.CMSAttribute({"type": "signing_time", "values": [_time(moment)]}),
            cms.CMSAttribute.load(names.signing_certificate),
        ]
    )
    # The signature covers the attributes' DER as a SET (RFC 5652 §5.4); asn1crypto
    # sorts SET OF members, so this is the canonical encoding verifiers recompute.
    signature = tsa.private_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": tsa_cert.issuer,
                        "serial_number": tsa_cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        }
    )
    signed_data = {
        "version": "v3",  # eContentType is not id-data (RFC 5652 §5.1)
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "tst_info", "content": tst_info},
        "signer_infos": [signer_info],
    }
    if request["cert_req"].native:
        ders = (tsa_cert.dump(), *(c.public_bytes(serialization.Encoding.DER) for c in chain))
        signed_data["certificates"] = cms.CertificateSet.load(_certificate_set(ders))
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
