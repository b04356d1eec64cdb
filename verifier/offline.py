"""Offline verification: a verdict on a QR code's seal or on a PDF from a cached trust bundle.

The bundle is a directory fetched once (``sanad trust fetch``) and then used without
any network::

    trust.pem         the trust anchors (root and issuing CA), PEM
    trust.json        the trust list: every key, its kind and status, revocation dates
    jwks.json         the seal and status-list keys (JWKS), each with its x5c chain
    status-list.jwt   the signed status-list snapshot
    crls/*.crl        the CAs' revocation lists, from the certificates' distribution points
    fetched_at        when it was fetched (ISO 8601, UTC)

Nothing in the bundle is taken on its word: a JWKS key counts only if its x5c
certificate chains to ``trust.pem`` and carries the same public key, and the status list
only if the status key signed it. A snapshot past its ``exp`` is stale: it is reported
as such and never vouches that a document is valid.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.seal import SealClaims, data_hash, seal_from_text
from sanad.clock import today_in_india
from sanad.jws import JwsError, jwk_coordinates, public_key_from_jwk
from trust import key_id
from trust.revocation import StaticCrls, distribution_points
from verifier.pdf import TrustAnchors, check_signature
from verifier.seal_check import INDETERMINATE_REASONS, verify_seal
from verifier.status_list import (
    MEDIA_TYPE,
    PATH,
    Status,
    StatusListInvalid,
    StatusListReason,
    VerifiedStatusList,
    verify_snapshot,
)
from verifier.trust import JWKS_MEDIA_TYPE, iso
from verifier.verdict import Indication

#: ``issuer.render.ATTACHMENT_NAME``, repeated so that offline checks need no renderer.
ATTACHMENT_NAME = "certificate.json"
log = logging.getLogger(__name__)

TRUST_PEM = "trust.pem"
TRUST_JSON = "trust.json"
JWKS_JSON = "jwks.json"
STATUS_LIST = "status-list.jwt"
FETCHED_AT = "fetched_at"
CRL_DIR = "crls"


class OfflineReason(StrEnum):
    """Offline reasons beyond the seal's (``SealReason``), the status list's
    (``StatusListReason``) and the PDF signature's (``verifier.verdict.Reason``)."""

    NO_SEAL = "NO_SEAL"
    """Neither a seal in the text nor a sealed link in the PDF (issued before seals)."""
    SEAL_DATA_MISMATCH = "SEAL_DATA_MISMATCH"
    """The PDF's certificate.json is not the data the seal was made for."""
    SEAL_ID_MISMATCH = "SEAL_ID_MISMATCH"
    """The URL's document id is not the one in its seal."""
    ATTACHMENT_MISSING = "ATTACHMENT_MISSING"
    REVOKED = "REVOKED"
    SUPERSEDED = "SUPERSEDED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    STATUS_LIST_MISSING = "STATUS_LIST_MISSING"
    STATUS_LIST_STALE = "STATUS_LIST_STALE"
    STATUS_INDEX_OUT_OF_RANGE = "STATUS_INDEX_OUT_OF_RANGE"


_INDETERMINATE = frozenset(
    {
        *INDETERMINATE_REASONS,
        OfflineReason.NO_SEAL,
        OfflineReason.SUPERSEDED,
        OfflineReason.SUSPENDED,
        OfflineReason.EXPIRED,
        OfflineReason.STATUS_LIST_MISSING,
        OfflineReason.STATUS_LIST_STALE,
        OfflineReason.STATUS_INDEX_OUT_OF_RANGE,
        *StatusListReason,
    }
)


class TrustBundleError(Exception):
    """The bundle is missing, unreadable, or failed its checks (fetch it again)."""


# --- the bundle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustBundle:
    trust_pem: bytes
    trust_list: dict[str, Any]
    jwks: dict[str, Any]
    status_list: str | None
    fetched_at: datetime
    crls: tuple[bytes, ...] = ()
    """DER CRLs: the newest timestamp in a PDF is checked now, which needs revocation
    data newer than what the PDF embeds (a CRL is valid for days)."""

    @classmethod
    def load(cls, directory: Path) -> TrustBundle:
        try:
            status_path = directory / STATUS_LIST
            return cls(
                trust_pem=(directory / TRUST_PEM).read_bytes(),
                trust_list=json.loads((directory / TRUST_JSON).read_text("utf-8")),
                jwks=json.loads((directory / JWKS_JSON).read_text("utf-8")),
                status_list=status_path.read_text("ascii").strip() if status_path.exists() else None,
                fetched_at=datetime.fromisoformat((directory / FETCHED_AT).read_text("ascii").strip()),
                crls=tuple(path.read_bytes() for path in sorted((directory / CRL_DIR).glob("*.crl"))),
            )
        except (OSError, ValueError) as e:
            raise TrustBundleError(f"no usable trust bundle in {directory} ({e}); run 'sanad trust fetch'") from e

    def save(self, directory: Path) -> None:
        """Write every file beside its final name, then move it in; ``fetched_at`` last."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            TRUST_PEM: self.trust_pem,
            TRUST_JSON: json.dumps(self.trust_list, indent=2, ensure_ascii=False).encode("utf-8"),
            JWKS_JSON: json.dumps(self.jwks, indent=2).encode("utf-8"),
        }
        if self.status_list is not None:
            files[STATUS_LIST] = self.status_list.encode("ascii")
        (directory / CRL_DIR).mkdir(exist_ok=True)
        for stale in (directory / CRL_DIR).glob("*.crl"):
            stale.unlink()
        for n, der in enumerate(self.crls):
            files[f"{CRL_DIR}/{n}.crl"] = der
        files[FETCHED_AT] = iso(self.fetched_at).encode("ascii")
        for name, content in files.items():
            temporary = directory / f"{name}.tmp"
            temporary.write_bytes(content)
            os.replace(temporary, directory / name)

    def anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem(self.trust_pem, StaticCrls(self.crls))

    def crls_current_until(self) -> datetime | None:
        """When the first of the bundle's CRLs expires (None: it has none)."""
        updates = [x509.load_der_x509_crl(der).next_update_utc for der in self.crls]
        known = [u for u in updates if u is not None]
        return min(known) if known else None

    def trusted_jwks(self) -> dict[str, Any]:
        """The JWKS keys whose certificate chains to the anchors and matches the key;
        their validity comes from the certificate, not from the JSON beside it."""
        certificates = x509.load_pem_x509_certificates(self.trust_pem)
        roots = [c for c in certificates if c.issuer == c.subject]
        cas = [c for c in certificates if c.issuer != c.subject and _issued_by_any(c, roots)] + roots
        keys = []
        for jwk in self.jwks.get("keys", []):
            checked = _checked_jwk(jwk, cas)
            if checked is not None:
                keys.append(checked)
        return {"keys": keys}

    def revocations(self) -> dict[str, datetime]:
        """Key id → when it was revoked, from the trust list."""
        found = {}
        for key in self.trust_list.get("keys", []):
            revoked_at = key.get("revoked_at") if isinstance(key, Mapping) else None
            if isinstance(revoked_at, str):
                try:
                    found[str(key["key_id"])] = datetime.fromisoformat(revoked_at)
                except ValueError:
                    continue
        return found


def _issued_by_any(certificate: x509.Certificate, issuers: list[x509.Certificate]) -> bool:
    for issuer in issuers:
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def _checked_jwk(jwk: Any, cas: list[x509.Certificate]) -> dict[str, Any] | None:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("x5c"), list) or not jwk["x5c"]:
        return None
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0], validate=True))
        public_key = public_key_from_jwk(jwk)
    except (ValueError, JwsError):
        return None
    certified = certificate.public_key()
    if (
        not isinstance(certified, ec.EllipticCurvePublicKey)
        or jwk_coordinates(certified) != jwk_coordinates(public_key)
        or jwk.get("kid") != key_id(certificate)
        or not _issued_by_any(certificate, cas)
    ):
        return None
    meta = dict(jwk.get("sanad") or {})
    meta["not_before"] = iso(certificate.not_valid_before_utc)
    meta["not_after"] = iso(certificate.not_valid_after_utc)
    return {**jwk, "sanad": meta}


# --- fetching -----------------------------------------------------------------------------

#: GET ``url`` with an Accept header; returns the body or raises :class:`TrustBundleError`.
Getter = Callable[[str, str], bytes]


def http_get(url: str, accept: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise TrustBundleError(f"{url} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 (http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (http(s) only)
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, OSError) as e:
        raise TrustBundleError(f"could not fetch {url}: {e}") from e


def fetch_bundle(base_url: str, *, get: Getter = http_get, now: datetime | None = None) -> TrustBundle:
    """Fetch the trust list, JWKS and status list from a Sanad at ``base_url`` and check
    that they hold together (keys chain to the anchors, the status list verifies)."""
    base = base_url.rstrip("/")
    try:
        bundle = TrustBundle(
            trust_pem=get(f"{base}/api/v1/trust", "application/x-pem-file"),
            trust_list=json.loads(get(f"{base}/api/v1/trust?format=json", "application/json")),
            jwks=json.loads(get(f"{base}/api/v1/trust/jwks", JWKS_MEDIA_TYPE)),
            status_list=get(f"{base}{PATH}", MEDIA_TYPE).decode("ascii").strip(),
            fetched_at=now or datetime.now(UTC),
        )
        bundle = replace(bundle, crls=_fetch_crls(bundle, get))
        bundle.anchors()
    except (ValueError, UnicodeDecodeError) as e:
        raise TrustBundleError(f"{base} did not answer with a trust bundle: {e}") from e
    trusted = bundle.trusted_jwks()
    if not trusted["keys"]:
        raise TrustBundleError(f"no key from {base} chains to its trust anchors")
    try:
        verify_snapshot(bundle.status_list or "", trusted)
    except StatusListInvalid as e:
        raise TrustBundleError(f"the status list from {base} does not verify: {e.message}") from e
    return bundle


def _fetch_crls(bundle: TrustBundle, get: Getter) -> tuple[bytes, ...]:
    """The CRLs named by the anchors' and the keys' certificates."""
    certificates = list(x509.load_pem_x509_certificates(bundle.trust_pem))
    for jwk in bundle.jwks.get("keys", []):
        for encoded in jwk.get("x5c", []) if isinstance(jwk, dict) else []:
            certificates.append(x509.load_der_x509_certificate(base64.b64decode(encoded)))
    urls = sorted({url for certificate in certificates for url in distribution_points(certificate)})
    ders = []
    for url in urls:
        der = get(url, "application/pkix-crl")
        x509.load_der_x509_crl(der)  # a ValueError here means no trust bundle
        ders.append(der)
    return tuple(ders)


# --- verdicts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class StatusListState:
    state: str
    """current, stale, missing or invalid."""
    expires_at: datetime | None = None

    def describe(self) -> str:
        if self.state == "current" and self.expires_at is not None:
            return f"status list: current until {iso(self.expires_at)}"
        if self.state == "stale" and self.expires_at is not None:
            return f"status list: STALE since {iso(self.expires_at)}; run 'sanad trust fetch'"
        return f"status list: {self.state.upper()}; run 'sanad trust fetch'"


@dataclass(frozen=True)
class OfflineVerdict:
    indication: Indication
    findings: tuple[Finding, ...]
    claims: SealClaims | None
    status_list: StatusListState
    document_status: str | None = None
    """valid, revoked, superseded, suspended, or None when the list could not say."""

    def report(self) -> list[str]:
        lines = [self.indication.value]
        if self.claims is not None:
            c = self.claims
            lines.append(f"document: {c.document_id} ({c.type}), department {c.department}")
            lines.append(f"holder: {c.holder_name}")
            until = c.valid_until.isoformat() if c.valid_until else "no expiry"
            lines.append(f"issued: {c.issued_on.isoformat()}, valid until: {until}")
        if self.document_status is not None:
            lines.append(f"status: {self.document_status}")
        lines.extend(f"reason: {f.code}: {f.message}" for f in self.findings)
        lines.append(self.status_list.describe())
        return lines


@dataclass
class _Collector:
    findings: list[Finding] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        self.findings.append(Finding(str(code), message))

    def indication(self) -> Indication:
        if any(f.code not in _INDETERMINATE for f in self.findings):
            return Indication.TOTAL_FAILED
        return Indication.INDETERMINATE if self.findings else Indication.TOTAL_PASSED


def _status_list(
    bundle: TrustBundle, jwks: Mapping[str, Any], now: datetime, out: _Collector
) -> tuple[StatusListState, VerifiedStatusList | None]:
    if bundle.status_list is None:
        out.add(OfflineReason.STATUS_LIST_MISSING, "the trust bundle has no status list")
        return StatusListState("missing"), None
    try:
        verified = verify_snapshot(bundle.status_list, jwks)
    except StatusListInvalid as e:
        out.add(e.reason, e.message)
        return StatusListState("invalid"), None
    freshness = verified.freshness(now)
    if not freshness.current:
        out.add(
            OfflineReason.STATUS_LIST_STALE,
            f"the cached status list expired at {iso(freshness.expires_at)}: it cannot show the document is in force",
        )
        return StatusListState("stale", freshness.expires_at), verified
    return StatusListState("current", freshness.expires_at), verified


_STATUS_FINDINGS = {
    Status.REVOKED: (OfflineReason.REVOKED, "revoked", "the issuer revoked this document"),
    Status.SUPERSEDED: (OfflineReason.SUPERSEDED, "superseded", "a newer version of this document was issued"),
    Status.SUSPENDED: (OfflineReason.SUSPENDED, "suspended", "the document is suspended"),
}


def _judge_seal(
    seal: str, bundle: TrustBundle, now: datetime, out: _Collector
) -> tuple[SealClaims | None, StatusListState, str | None]:
    jwks = bundle.trusted_jwks()
    check = verify_seal(seal, jwks, revocations=bundle.revocations())
    for seal_finding in check.findings:
        out.add(seal_finding.reason, seal_finding.message)
    state, verified = _status_list(bundle, jwks, now, out)
    claims = check.claims
    if claims is None:
        return None, state, None
    if claims.valid_until is not None and claims.valid_until < today_in_india(now):
        out.add(OfflineReason.EXPIRED, f"the document's validity ended on {claims.valid_until.isoformat()}")
    document_status = None
    if verified is not None:
        value = verified.statuses.status(claims.status_index)
        if value is None:
            out.add(OfflineReason.STATUS_INDEX_OUT_OF_RANGE, "the status list has no entry for this document")
        elif value in _STATUS_FINDINGS:
            reason, document_status, message = _STATUS_FINDINGS[Status(value)]
            out.add(reason, message)  # a stale list may still prove a revocation
        elif state.state == "current":
            document_status = "valid"
    return claims, state, document_status


def verify_seal_offline(text: str, bundle: TrustBundle, *, now: datetime | None = None) -> OfflineVerdict:
    """A verdict on what a QR code scanned to: the sealed URL, or the bare seal."""
    now = now or datetime.now(UTC)
    out = _Collector()
    seal = seal_from_text(text)
    if seal is None:
        out.add(OfflineReason.NO_SEAL, "the text carries no seal (a URL ending in #<seal>)")
        return OfflineVerdict(out.indication(), tuple(out.findings), None, StatusListState("missing"))
    claims, state, document_status = _judge_seal(seal, bundle, now, out)
    url_id = _document_id_in_url(text)
    if claims is not None and url_id is not None and url_id != claims.document_id:
        out.add(OfflineReason.SEAL_ID_MISMATCH, f"the URL names document {url_id}, the seal {claims.document_id}")
    return OfflineVerdict(out.indication(), tuple(out.findings), claims, state, document_status)


def _document_id_in_url(text: str) -> str | None:
    before = text.strip().partition("#")[0]
    marker = "/v/"
    return before.rsplit(marker, 1)[1].strip("/") or None if marker in before else None


def verify_pdf_offline(pdf: bytes, bundle: TrustBundle, *, now: datetime | None = None) -> OfflineVerdict:
    """A verdict on a PDF: its signature against the bundle's anchors, then its seal (the
    QR code's link) against its attached data and the cached status list."""
    now = now or datetime.now(UTC)
    out = _Collector()
    check = check_signature(pdf, bundle.anchors(), moment=now)
    for pdf_finding in check.findings:
        out.add(pdf_finding.reason, pdf_finding.message)
    seal, attachment = read_seal_and_attachment(pdf)
    if seal is None:
        out.add(OfflineReason.NO_SEAL, "the PDF has no sealed verification link (issued before seals?)")
        return OfflineVerdict(out.indication(), tuple(out.findings), None, StatusListState("missing"))
    claims, state, document_status = _judge_seal(seal, bundle, now, out)
    if claims is not None:
        if attachment is None:
            out.add(OfflineReason.ATTACHMENT_MISSING, f"the PDF has no {ATTACHMENT_NAME} to compare with the seal")
        elif data_hash(attachment) != claims.data_hash:
            out.add(
                OfflineReason.SEAL_DATA_MISMATCH, f"the PDF's {ATTACHMENT_NAME} is not the data the seal was made for"
            )
        if check.signer_department is not None and check.signer_department != claims.department:
            out.add("SEAL_SIGNER_MISMATCH", "the PDF was signed by another department than the seal names")
    return OfflineVerdict(out.indication(), tuple(out.findings), claims, state, document_status)


# --- reading a PDF ------------------------------------------------------------------------

_MAX_DEPTH = 32


def _pages(node: generic.DictionaryObject, depth: int = 0) -> Iterator[generic.DictionaryObject]:
    if depth > _MAX_DEPTH:
        return
    if node.get("/Type") == "/Page" or "/Kids" not in node:
        yield node
        return
    for kid in node["/Kids"]:
        yield from _pages(kid.get_object(), depth + 1)


def _names(node: generic.DictionaryObject, depth: int = 0) -> Iterator[tuple[str, generic.PdfObject]]:
    if depth > _MAX_DEPTH:
        return
    names = node.get("/Names")
    if names is not None:
        items = list(names)
        for name, value in zip(items[::2], items[1::2], strict=False):
            yield str(name), value.get_object()
    for kid in node.get("/Kids", []):
        yield from _names(kid.get_object(), depth + 1)


def read_seal_and_attachment(pdf: bytes) -> tuple[str | None, bytes | None]:
    """The seal in the first page link that carries one, and the ``certificate.json`` bytes.
    Whatever cannot be read counts as absent (``check_signature`` says what is wrong)."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
    except Exception:  # untrusted input
        return None, None
    return _seal_in_links(reader), _attachment(reader)


def _seal_in_links(reader: PdfFileReader) -> str | None:
    try:
        for page in _pages(reader.root["/Pages"].get_object()):
            for annotation in page.get("/Annots", []):
                annotation = annotation.get_object()
                action = annotation.get("/A")
                if annotation.get("/Subtype") != "/Link" or action is None:
                    continue
                uri = action.get_object().get("/URI")
                seal = seal_from_text(_text(uri)) if uri is not None else None
                if seal is not None:
                    return seal
    except Exception:  # untrusted input
        log.info("could not read the PDF's links", exc_info=True)
    return None


def _attachment(reader: PdfFileReader) -> bytes | None:
    try:
        names = reader.root.get("/Names")
        embedded = names.get_object().get("/EmbeddedFiles") if names is not None else None
        if embedded is None:
            return None
        for name, spec in _names(embedded.get_object()):
            if name == ATTACHMENT_NAME and isinstance(spec, generic.DictionaryObject):
                return bytes(spec["/EF"].get_object()["/F"].get_object().data)
    except Exception:  # untrusted input
        log.info("could not read the PDF's attachments", exc_info=True)
    return None


def _text(value: Any) -> str:
    value = value.get_object()
    if isinstance(value, generic.ByteStringObject):
        return bytes(value).decode("latin-1")
    return str(value)
