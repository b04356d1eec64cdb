"""Checking a seal against a JWKS, with no network: every failure has a reason code a
machine can act on. Two formats: the compact seal (``issuer.seal``, COSE in digits) that
certificates carry now, and the compact JWS of those issued before it (``verifier.seal_jws``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from issuer.seal import SealClaims, SealFormatError, decode_claims, is_compact, key_id_of, open_seal
from sanad.clock import today_in_india
from sanad.cose import CoseError
from sanad.jws import JwsError, JwsProblem, parse_compact, public_key_from_jwk
from verifier.seal_jws import SEAL_TYPE, SEAL_VERSION, claims_from_payload


class SealReason(StrEnum):
    SEAL_MALFORMED = "SEAL_MALFORMED"
    """Damaged or incomplete digits (a truncated scan), not a COSE_Sign1 or compact JWS with
    the seal's header, or a payload that is not a seal's."""
    SEAL_UNSUPPORTED_ALG = "SEAL_UNSUPPORTED_ALG"
    """``alg`` is not exactly ES256 (``none``, HS256, ... are refused unread)."""
    SEAL_UNSUPPORTED_VERSION = "SEAL_UNSUPPORTED_VERSION"
    """A genuine seal of a newer format: claims or a document type this verifier does not know."""
    SEAL_UNKNOWN_KEY = "SEAL_UNKNOWN_KEY"
    """No key with the seal's ``kid`` in the JWKS (a newer key: fetch the trust list)."""
    SEAL_WRONG_KEY_PURPOSE = "SEAL_WRONG_KEY_PURPOSE"
    """The ``kid`` names a key that does not seal documents (the status-list key)."""
    SEAL_SIGNATURE_INVALID = "SEAL_SIGNATURE_INVALID"
    SEAL_SIGNER_MISMATCH = "SEAL_SIGNER_MISMATCH"
    """The seal names a department other than the key's."""
    SEAL_KEY_NOT_VALID_AT_ISSUE = "SEAL_KEY_NOT_VALID_AT_ISSUE"
    """The issue date lies outside the key's certificate validity."""
    SEAL_KEY_REVOKED = "SEAL_KEY_REVOKED"
    """The key was revoked on or before the issue date (or when, is unknown)."""
    SEAL_KEY_REVOKED_AFTER_ISSUE = "SEAL_KEY_REVOKED_AFTER_ISSUE"
    """The key was revoked after the stated issue date: the seal alone cannot show it was
    not back-dated with the compromised key."""


#: Reasons that leave the answer open rather than proving a forgery.
INDETERMINATE_REASONS = frozenset(
    {SealReason.SEAL_UNKNOWN_KEY, SealReason.SEAL_UNSUPPORTED_VERSION, SealReason.SEAL_KEY_REVOKED_AFTER_ISSUE}
)

# JwsProblem and CoseProblem name the same three problems (a test holds them equal).
_REASONS: Mapping[str, SealReason] = {
    JwsProblem.MALFORMED: SealReason.SEAL_MALFORMED,
    JwsProblem.UNSUPPORTED_ALG: SealReason.SEAL_UNSUPPORTED_ALG,
    JwsProblem.SIGNATURE_INVALID: SealReason.SEAL_SIGNATURE_INVALID,
}


@dataclass(frozen=True)
class SealFinding:
    reason: SealReason
    message: str


@dataclass(frozen=True)
class SealCheck:
    """The outcome. ``claims`` is set once the signature verified, even if a later rule failed."""

    claims: SealClaims | None
    key_id: str | None
    findings: tuple[SealFinding, ...]
    key: Mapping[str, Any] | None = None
    """The JWK that verified it."""

    @property
    def passed(self) -> bool:
        return self.claims is not None and not self.findings


def _fail(reason: SealReason, message: str, key_id: str | None = None) -> SealCheck:
    return SealCheck(None, key_id, (SealFinding(reason, message),))


def _find_key(jwks: Mapping[str, Any], kid: str) -> Mapping[str, Any] | None:
    keys = jwks.get("keys")
    for jwk in keys if isinstance(keys, list) else []:
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
            return jwk
    return None


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def verify_seal(seal: str, jwks: Mapping[str, Any], *, revocations: Mapping[str, datetime] | None = None) -> SealCheck:
    """Verify ``seal`` (either format) with the key it names in ``jwks``.

    ``revocations`` (key id → revocation time, from the trust list) dates the revocation
    of a key the JWKS marks "revoked"; without a date, a revoked key fails every seal.
    """
    seal = seal.strip()
    check = _verify_compact(seal, jwks) if is_compact(seal) else _verify_jws(seal, jwks)
    if check.claims is None or check.key is None or check.key_id is None:
        return check
    findings = _key_findings(check.claims, _meta(check.key), check.key_id, revocations or {})
    return SealCheck(check.claims, check.key_id, tuple(findings), check.key)


def seal_key_id(seal: str) -> str | None:
    """The key id ``seal`` (either format) names, or None when it cannot be read."""
    seal = seal.strip()
    try:
        return key_id_of(open_seal(seal)) if is_compact(seal) else parse_compact(seal, typ=SEAL_TYPE).kid
    except (CoseError, JwsError):
        return None


def _verify_compact(seal: str, jwks: Mapping[str, Any]) -> SealCheck:
    try:
        parsed = open_seal(seal)
    except CoseError as e:
        return _fail(_REASONS[e.problem], f"seal: {e.message}")
    kid = key_id_of(parsed)
    jwk = _seal_key(jwks, kid)
    if isinstance(jwk, SealCheck):
        return jwk
    try:
        parsed.verify(public_key_from_jwk(jwk))
    except (CoseError, JwsError) as e:
        return _fail(_REASONS[e.problem], f"seal: {e.message}", kid)
    department = _meta(jwk).get("department")
    if not isinstance(department, str) or not department:
        return _fail(SealReason.SEAL_WRONG_KEY_PURPOSE, f"seal: key {kid} belongs to no department", kid)
    try:
        claims = decode_claims(parsed.payload, department)
    except SealFormatError as e:
        reason = SealReason.SEAL_UNSUPPORTED_VERSION if e.newer else SealReason.SEAL_MALFORMED
        return _fail(reason, f"seal: {e}", kid)
    return SealCheck(claims, kid, (), jwk)


def _verify_jws(seal: str, jwks: Mapping[str, Any]) -> SealCheck:
    try:
        parsed = parse_compact(seal, typ=SEAL_TYPE)
    except JwsError as e:
        return _fail(_REASONS[e.problem], f"seal: {e.message}")
    kid = parsed.kid
    if kid is None:
        return _fail(SealReason.SEAL_MALFORMED, "seal: the header names no key (kid)")
    jwk = _seal_key(jwks, kid)
    if isinstance(jwk, SealCheck):
        return jwk
    try:
        parsed.verify(public_key_from_jwk(jwk))
        payload = parsed.payload_object()
    except JwsError as e:
        return _fail(_REASONS[e.problem], f"seal: {e.message}", kid)
    if payload.get("v") != SEAL_VERSION:
        return _fail(SealReason.SEAL_UNSUPPORTED_VERSION, f"seal: version {payload.get('v')!r} is not known", kid)
    try:
        claims = claims_from_payload(payload)
    except ValueError as e:
        return _fail(SealReason.SEAL_MALFORMED, f"seal: {e}", kid)
    return SealCheck(claims, kid, (), jwk)


def _seal_key(jwks: Mapping[str, Any], kid: str) -> Mapping[str, Any] | SealCheck:
    """The JWK that seals documents under ``kid``, or the failed check saying why not."""
    jwk = _find_key(jwks, kid)
    if jwk is None:
        return _fail(
            SealReason.SEAL_UNKNOWN_KEY,
            f"seal: key {kid} is not in the trust list (a newer key? fetch the trust list again)",
            kid,
        )
    if _meta(jwk).get("purpose") != "seal" or jwk.get("alg", "ES256") != "ES256":
        return _fail(SealReason.SEAL_WRONG_KEY_PURPOSE, f"seal: key {kid} does not seal documents", kid)
    return jwk


def _meta(jwk: Mapping[str, Any]) -> Mapping[str, Any]:
    found = jwk.get("sanad")
    return found if isinstance(found, Mapping) else {}


def _key_findings(
    claims: SealClaims, meta: Mapping[str, Any], kid: str, revocations: Mapping[str, datetime]
) -> list[SealFinding]:
    findings = []
    if meta.get("department") != claims.department:
        findings.append(
            SealFinding(
                SealReason.SEAL_SIGNER_MISMATCH,
                f"the seal names department {claims.department}, its key belongs to {meta.get('department')}",
            )
        )
    not_before, not_after = _moment(meta.get("not_before")), _moment(meta.get("not_after"))
    if (
        not_before is None
        or not_after is None
        or not today_in_india(not_before) <= claims.issued_on <= today_in_india(not_after)
    ):
        findings.append(
            SealFinding(
                SealReason.SEAL_KEY_NOT_VALID_AT_ISSUE,
                f"the key {kid} was not valid on the stated issue date {claims.issued_on.isoformat()}",
            )
        )
    if meta.get("status") == "revoked" or kid in revocations:
        revoked_at = revocations.get(kid)
        if revoked_at is None or today_in_india(revoked_at) <= claims.issued_on:
            findings.append(SealFinding(SealReason.SEAL_KEY_REVOKED, f"the key {kid} was revoked"))
        else:
            findings.append(
                SealFinding(
                    SealReason.SEAL_KEY_REVOKED_AFTER_ISSUE,
                    f"the key {kid} was revoked on {today_in_india(revoked_at).isoformat()}, after the stated "
                    "issue date; check the document online",
                )
            )
    return findings
