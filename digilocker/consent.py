"""The citizen's consent on API Setu's verification form: the ``consentArtifact`` a
requester forwards, checked before any certificate is looked up.

API Setu publishes the artifact's shape (``ConsentArtifactSchema`` of its certificate
APIs)::

    {"consent": {"consentId": UUID, "timestamp": UTC date-time,
                 "dataConsumer": {"id"}, "dataProvider": {"id"},
                 "purpose": {"description"},
                 "user": {"idType", "idNumber", "mobile", "email"},
                 "data": {"id"},
                 "permission": {"access", "dateRange": {"from", "to"},
                                "frequency": {"unit", "value", "repeats"}}},
     "signature": {"signature"}}

It does not say what the signature covers. Ours is the consent manager's signature over
the ``consent`` object in canonical JSON (keys sorted, no whitespace, UTF-8), in base64:
RSASSA-PKCS1-v1_5 with an RSA key, ECDSA (DER) with an EC key, both with SHA-256, or
Ed25519; the deployment configures the consent manager's public key
(``sanad digilocker consent-key``). What can be checked, is: the structure; that the
consent is for this issuer (``dataProvider.id`` is its issuer id) and this document type
(``data.id`` is the doc type code, or a URI of this issuer and doc type); that it states a
purpose and a data consumer; that it was not given in the future and that its window
(``permission.dateRange``) is open now; and the signature. Each failure is refused in
API Setu's vocabulary with a reason a person can act on."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from sqlalchemy.orm import Session

import audit
from digilocker import repository
from digilocker.exceptions import ApiSetuError
from digilocker.models import ApisetuConsentKey
from sanad.errors import FieldError, InvalidInput

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a consent manager's may run."""
MAX_SIGNATURE_CHARS = 2048

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True)
class Consent:
    """A verified consent: what the audit log and the answer may name."""

    consent_id: str
    consumer_id: str
    purpose: str


@dataclass(frozen=True)
class Expected:
    """What the consent must name to be good for this request."""

    issuer_id: str
    doc_type: str
    now: datetime


def _missing() -> ApiSetuError:
    return ApiSetuError(
        400, "missing_parameter", "Please provide all mandatory parameters", detail="consentArtifact is missing"
    )


def _malformed(reason: str) -> ApiSetuError:
    return ApiSetuError(400, "invalid_parameter", "Bad request", detail=f"consentArtifact: {reason}")


def _not_authorized(reason: str) -> ApiSetuError:
    return ApiSetuError(401, "invalid_authorization", "You are not authorized to use this API", detail=reason)


def _object(parent: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise _malformed(f"{path}{name} must be an object")
    return value


def _text(parent: Mapping[str, Any], name: str, path: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _malformed(f"{path}{name} must be a non-empty string")
    return value.strip()


def _moment(parent: Mapping[str, Any], name: str, path: str) -> datetime:
    raw = _text(parent, name, path)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _malformed(f"{path}{name} must be a date and time with its zone, e.g. 2026-01-31T10:00:00.000Z")
    return moment


def canonical(consent: Mapping[str, Any]) -> bytes:
    """The bytes the consent manager signs: the ``consent`` object, keys sorted, no whitespace."""
    return json.dumps(consent, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_public_key(pem: str) -> PublicKey:
    """A consent manager's public key from PEM; refused with a reason when it is not one we verify with."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput([FieldError("public_key", "is not a PEM public key")]) from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise InvalidInput([FieldError("public_key", "must be an RSA, EC or Ed25519 public key")])
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise InvalidInput([FieldError("public_key", "an RSA key must have at least 2048 bits")])
    return key


def _signature_holds(key: PublicKey, signature: bytes, signed: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, signed)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class _Artifact:
    """What an artifact says, once its structure is known good."""

    consent: Mapping[str, Any]
    signature: bytes
    consent_id: str
    given_at: datetime
    consumer_id: str
    provider_id: str
    purpose: str
    data_id: str
    opens: datetime
    closes: datetime


def _read(artifact: Mapping[str, Any]) -> _Artifact:
    """The artifact's parts, or ``400`` naming the first one missing or malformed."""
    consent = _object(artifact, "consent", "")
    signature_text = _text(_object(artifact, "signature", ""), "signature", "signature.")
    consent_id = _text(consent, "consentId", "consent.")
    try:
        uuid.UUID(consent_id)
    except ValueError:
        raise ApiSetuError(
            400, "invalid_consentid", "The consentId parameter must be in UUID format", detail="consentId is not a UUID"
        ) from None
    given_at = _moment(consent, "timestamp", "consent.")
    consumer_id = _text(_object(consent, "dataConsumer", "consent."), "id", "consent.dataConsumer.")
    provider_id = _text(_object(consent, "dataProvider", "consent."), "id", "consent.dataProvider.")
    purpose = _text(_object(consent, "purpose", "consent."), "description", "consent.purpose.")
    data_id = _text(_object(consent, "data", "consent."), "id", "consent.data.")
    user = _object(consent, "user", "consent.")
    for name in ("idType", "idNumber"):
        _text(user, name, "consent.user.")
    permission = _object(consent, "permission", "consent.")
    _text(permission, "access", "consent.permission.")
    window = _object(permission, "dateRange", "consent.permission.")
    opens = _moment(window, "from", "consent.permission.dateRange.")
    closes = _moment(window, "to", "consent.permission.dateRange.")
    if closes < opens:
        raise _malformed("consent.permission.dateRange ends before it begins")
    if len(signature_text) > MAX_SIGNATURE_CHARS:
        raise _malformed("signature.signature is too long")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("signature.signature must be base64") from None
    return _Artifact(
        consent=consent,
        signature=signature,
        consent_id=consent_id,
        given_at=given_at,
        consumer_id=consumer_id,
        provider_id=provider_id,
        purpose=purpose,
        data_id=data_id,
        opens=opens,
        closes=closes,
    )


def verify(artifact: Mapping[str, Any] | None, key: PublicKey | None, expected: Expected) -> Consent:
    """The consent, if ``artifact`` is well formed, for this issuer and document type, in
    force now and signed with ``key``; otherwise :class:`ApiSetuError` saying why."""
    if not artifact:
        raise _missing()
    read = _read(artifact)
    # The claims before the signature: a caller learns what is wrong with their consent
    # either way, and no key is spent on an artifact that could not be good.
    code = expected.doc_type.upper()
    if read.provider_id != expected.issuer_id:
        raise _not_authorized(f"the consent is for data provider {read.provider_id[:100]!r}, not this issuer")
    if read.data_id.upper() != code and not read.data_id.startswith(f"{expected.issuer_id}-{code}-"):
        raise _not_authorized(f"the consent is for {read.data_id[:100]!r}, not for {code} certificates")
    latest = expected.now + CLOCK_SKEW
    if read.given_at > latest:
        raise _not_authorized("the consent's timestamp is in the future")
    if read.opens > latest:
        raise _not_authorized(f"the consent is valid only from {read.opens.isoformat()}")
    if read.closes < expected.now:
        raise _not_authorized(f"the consent expired at {read.closes.isoformat()}")
    if key is None:
        raise ApiSetuError(
            503,
            "service_unavailable",
            "Publisher service is temporarily unavailable",
            detail="consents cannot be verified: no consent manager key is configured",
        )
    if not _signature_holds(key, read.signature, canonical(read.consent)):
        raise _not_authorized("the consent's signature does not verify with the consent manager's key")
    return Consent(consent_id=read.consent_id, consumer_id=read.consumer_id, purpose=read.purpose)


# --- the deployment's consent manager key ------------------------------------------------------------


def fingerprint(pem: str) -> str:
    """SHA-256 of the key's DER form, as a person compares it with the consent manager's."""
    raw = load_public_key(pem).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(raw).hexdigest()


def configure_key(session: Session, pem: str, actor: str, now: datetime) -> str:
    """Keep ``pem`` as the consent manager's key (replacing any earlier); returns its fingerprint."""
    sha256 = fingerprint(pem)
    repository.save_consent_key(
        session, ApisetuConsentKey(id=1, public_key_pem=pem, fingerprint=sha256, updated_at=now)
    )
    audit.record(
        session,
        action="digilocker.consent_key",
        subject="apisetu:consent-manager",
        actor=actor,
        details={"sha256": sha256},
    )
    return sha256


def configured_key(session: Session) -> PublicKey | None:
    row = repository.consent_key(session)
    return None if row is None else load_public_key(row.public_key_pem)
