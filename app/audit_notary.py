"""The audit log's notary: checkpoints signed with Sanad's ``audit`` service key and
timestamped by the deployment's TSA.

It lives in the composition root because it joins two packages that do not know each
other: the log (``audit``, below the PKI so that every domain can record) and the PKI
(``trust``). A checkpoint's JWS carries the signer's certificate (``x5c``), so anyone
holding Sanad's trust anchors (``GET /api/v1/trust``) can check it without this
deployment's files.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from datetime import datetime
from pathlib import Path

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from audit.checkpoints import TYP, CheckpointInvalid, TimestampUnavailable
from sanad.jws import ALG, JwsError, parse_compact, sign_compact
from trust.keys import CertifiedKey, key_id, load_certificate
from trust.paths import tsa_url
from trust.service_keys import ensure_service_key
from trust.tsa_client import HttpTimeStamper

SERVICE = "audit"
SIGNER_NAME = f"Sanad {SERVICE} signer"


class PkiNotary:
    """Signs and timestamps checkpoints; checks them against the PKI's anchors."""

    def __init__(self, keys_dir: Path, tsa: str | None = None) -> None:
        self.keys_dir = keys_dir
        self.tsa = tsa or tsa_url(keys_dir)
        self._key: CertifiedKey | None = None
        self._lock = threading.Lock()

    def _signing_key(self) -> CertifiedKey:
        # Loaded (or made) on first use: a deployment that never signs a checkpoint never parses it.
        with self._lock:
            if self._key is None:
                self._key = ensure_service_key(self.keys_dir, SERVICE)
            return self._key

    def sign(self, payload: bytes) -> str:
        pair = self._signing_key()
        certificate = pair.certificate
        header = {
            "alg": ALG,
            "typ": TYP,
            "kid": key_id(certificate),
            "x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")],
        }
        return sign_compact(header, payload, lambda data: pair.private_key.sign(data, ec.ECDSA(hashes.SHA256())))

    def timestamp(self, data: bytes) -> bytes:
        stamper = HttpTimeStamper(self.tsa)
        try:
            token = asyncio.run(stamper.async_timestamp(hashlib.sha256(data).digest(), "sha256"))
        except TimestampRequestError as e:
            raise TimestampUnavailable(str(e)) from e
        return bytes(token.dump())

    def signed_payload(self, signed: str) -> bytes:
        try:
            parsed = parse_compact(signed, typ=TYP)
            chain = parsed.header.get("x5c")
            if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
                raise CheckpointInvalid("the signature names no certificate")
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
        except (JwsError, ValueError) as e:
            raise CheckpointInvalid(f"the signature is malformed: {e}") from e
        self._check_signer(certificate)
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise CheckpointInvalid("the signer's key is not an EC key")
        try:
            parsed.verify(public_key)
        except JwsError as e:
            raise CheckpointInvalid(f"the signature does not verify: {e.message}") from e
        return parsed.payload

    def _check_signer(self, certificate: x509.Certificate) -> None:
        issuing = load_certificate(self.keys_dir / "issuing-ca.pem")
        try:
            certificate.verify_directly_issued_by(issuing)
        except (ValueError, TypeError) as e:
            raise CheckpointInvalid("the signer's certificate is not one the issuing CA issued") from e
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        if not names or names[0].value != SIGNER_NAME:
            raise CheckpointInvalid(f"the signer is {names[0].value if names else 'unnamed'!r}, not {SIGNER_NAME!r}")

    def timestamp_time(self, token: bytes, data: bytes) -> datetime:
        try:
            signed_data = cms.ContentInfo.load(token)["content"]
            context = ValidationContext(
                trust_roots=[load_certificate_asn1(self.keys_dir / "root-ca.pem")],
                other_certs=[load_certificate_asn1(self.keys_dir / "issuing-ca.pem")],
                allow_fetching=False,
                revocation_mode="soft-fail",
            )
            status = asyncio.run(
                validate_tst_signed_data(signed_data, context, lambda algorithm: hashlib.new(algorithm, data).digest())
            )
        except (SignatureValidationError, SigningError, ValueError, TypeError, KeyError) as e:
            raise CheckpointInvalid(f"the timestamp is not valid: {e}") from e
        if not (status.get("intact") and status.get("valid") and status.get("trust_problem_indic") is None):
            raise CheckpointInvalid("the timestamp does not cover the signature or is not from a trusted TSA")
        moment: datetime = status["timestamp"]
        return moment


def load_certificate_asn1(path: Path) -> object:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(load_certificate(path).public_bytes(serialization.Encoding.DER))
