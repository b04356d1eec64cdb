"""PAdES certifying signatures at levels B-B, B-T, B-LT and B-LTA.

pyHanko's stock ``SimpleSigner`` re-parses (and, for RSA, re-validates) the private
key on every signature, and without ``bytes_reserved`` signs every document twice to
size the signature. ``DepartmentSigner`` keeps the parsed key (or an open PKCS#11
session) and reserves a fixed size, so each document costs one raw signature. The revision
that holds the signature is written by ``issuer.signature_revision`` rather than by
pyHanko's reader and writer, for the files the renderer makes.

Levels (ETSI EN 319 142-1):

- B-B: the signature alone; it stops validating when the signer certificate expires.
- B-T: plus an RFC 3161 timestamp on the signature value, proving it existed at that time.
- B-LT: plus revocation data for the signer's and the TSA's chains, produced after that
  timestamp (``issuer.long_term`` says why it cannot be earlier), in the document security
  store of a revision appended after the signature.
- B-LTA: plus a document timestamp over all of it, in that same revision; ``sanad archive
  refresh`` adds further ones before each timestamp's TSA certificate expires.

A document whose fresh revocation data cannot be had while it is issued is issued at
B-T, says so (``SignedDocument.level``), and is brought up to level later. So is every
document signed with ``defer_long_term``: the evidence must be produced after the
signature's timestamp, up to a second later, and the issuing request need not wait for it
(``issuer.long_term_tasks`` adds the revision on the job engine).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer import long_term
from issuer.cms_template import DIGEST_ALGORITHM, TemplateSigner
from issuer.signature_revision import RevisionTemplate
from sanad.errors import SanadError, ServiceUnavailable
from sanad.settings import Settings
from trust.departments import Generation, active_key_id, current_generation
from trust.keys import load_certificate, load_pair
from trust.paths import tsa_url
from trust.revocation import CrlFetcher, OcspFetcher
from trust.tsa_client import HttpTimeStamper

SIGNATURE_FIELD = "Signature"
ARCHIVE_TIMESTAMP_FIELD = "ArchiveTimestamp"
# Room for the CMS blob. B-B: an ECDSA signature plus the signer and issuing-CA
# certificates, about 2.5 KB. A signature timestamp token adds the TSA's signed
# attributes and certificates, about 2.5 KB more. Reserving enough avoids a second pass.
BYTES_RESERVED_B = 8192
BYTES_RESERVED_T = 16384

# We hand pyHanko the revocation data ourselves (fetched and cached by CrlFetcher), so
# its warning that it may not fetch more is expected on every archive refresh.
logging.getLogger("pyhanko.sign.signers.pdf_signer").addFilter(
    lambda record: "fetching is not allowed" not in record.getMessage()
)
log = logging.getLogger(__name__)

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


TokenSigner = Callable[[dict[str, Any], asn1_x509.Certificate, list[asn1_x509.Certificate]], signers.Signer]
"""Makes a pyHanko signer for a key in a PKCS#11 token (``issuer.pkcs11``)."""


class SignatureLevel(StrEnum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def timestamped(self) -> bool:
        return self != SignatureLevel.B_B

    @property
    def long_term(self) -> bool:
        return self in (SignatureLevel.B_LT, SignatureLevel.B_LTA)


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def certification_metadata() -> signers.PdfSignatureMetadata:
    """PAdES (ETSI.CAdES.detached), certifying, DocMDP: no changes allowed.

    DocMDP "no changes" still admits DSS updates and document timestamps: PAdES
    (ETSI EN 319 142-1, 5.4) exempts them, and pyHanko's diff analysis classes them as
    LTA updates.
    """
    return signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason="Issued by Sanad",
        location="Punjab, India",
    )


@dataclass(frozen=True)
class SigningProfile:
    """How every department signs in this deployment."""

    level: SignatureLevel
    timestamper: TimeStamper | None = None
    """The TSA client; required from B-T up."""
    crls: CrlFetcher | None = None
    """Where revocation data comes from; required from B-LT up."""
    trust_roots: tuple[x509.Certificate, ...] = ()
    """The anchors the signer's and the TSA's chains are validated against before
    embedding their revocation data (B-LT up)."""
    intermediates: tuple[x509.Certificate, ...] = ()
    ocsp: OcspFetcher | None = None
    """Optional OCSP responses, embedded beside the CRLs (B-LT up)."""

    def __post_init__(self) -> None:
        if self.level.timestamped and self.timestamper is None:
            raise ValueError(f"{self.level} needs a timestamp authority")
        if self.level.long_term and (self.crls is None or not self.trust_roots):
            raise ValueError(f"{self.level} needs revocation data and trust roots")

    def validation_context(self, certificates: list[x509.Certificate]) -> ValidationContext:
        """A context holding freshly fetched CRLs (and OCSP responses, if the profile asks
        for them) for ``certificates`` and their CAs, validating as of the clock once they
        are fetched. pyHanko refuses revocation data issued more than a second after the
        validation time as too recent, so the moment cannot be taken before a slow fetch
        (or a caller's earlier "now")."""
        assert self.crls is not None
        crls = self.crls.crls_for([*certificates, *self.intermediates])
        ocsps = (
            self.ocsp.responses_for([*certificates, *self.intermediates], [*self.intermediates, *self.trust_roots])
            if self.ocsp is not None
            else []
        )
        return ValidationContext(
            trust_roots=[to_asn1(c) for c in self.trust_roots],
            other_certs=[to_asn1(c) for c in (*self.intermediates, *certificates)],
            crls=crls,
            ocsps=ocsps,
            allow_fetching=False,
            # Every certificate must have revocation data, or the level is not reached.
            revocation_mode="hard-fail",
            moment=datetime.now(UTC),
        )

    def revocation_sources(self) -> long_term.RevocationSources:
        assert self.crls is not None
        return long_term.RevocationSources(self.ocsp, self.crls, self.trust_roots, self.intermediates)


B_B_PROFILE = SigningProfile(SignatureLevel.B_B)


class _ParsedKeySigner(signers.Signer):
    """A pyHanko signer holding an already-parsed EC private key."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        signing_cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        self._private_key = private_key
        super().__init__(
            signing_cert=signing_cert,
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
            embed_roots=False,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return self.sign_now(data, digest_algorithm)

    def sign_now(self, data: bytes, digest_algorithm: str = "sha256") -> bytes:
        """The raw signature, without an event loop: the key is in memory."""
        return self._private_key.sign(data, ec.ECDSA(_HASHES[digest_algorithm]))


class SigningKeyUnusable(ServiceUnavailable):
    """The department's certificate does not validate (revoked, expired): nothing is issued
    until it has a new key (``sanad keys rotate``)."""

    code = "signing_key_unusable"

    def __init__(self, department: str, key_id: str, why: str) -> None:
        super().__init__(
            f"department {department!r} cannot sign: its certificate {key_id} does not validate ({why}); "
            "give it a new key with 'sanad keys rotate'"
        )


class SigningFailed(ServiceUnavailable):
    """The timestamp authority or revocation data could not be reached: retry later."""

    code = "signing_unavailable"


class DepartmentSigner:
    """Signs documents for one department's active key. Build once; thread-safe."""

    def __init__(
        self,
        code: str,
        signer: signers.Signer,
        certificate: x509.Certificate,
        key_id: str,
        profile: SigningProfile = B_B_PROFILE,
    ) -> None:
        self.code = code
        self.certificate = certificate
        self.key_id = key_id
        self.profile = profile
        self._signer = signer
        metadata = certification_metadata()
        assert metadata.reason is not None
        assert metadata.location is not None
        self._revision = RevisionTemplate.for_signer(
            signer,
            field_name=SIGNATURE_FIELD,
            reason=metadata.reason,
            location=metadata.location,
            contents_hex_digits=BYTES_RESERVED_T if profile.level.timestamped else BYTES_RESERVED_B,
        )

    @classmethod
    def from_generation(
        cls,
        keys_dir: Path,
        generation: Generation,
        profile: SigningProfile = B_B_PROFILE,
        token_signer: TokenSigner | None = None,
    ) -> DepartmentSigner:
        signing_cert = to_asn1(generation.certificate)
        chain = [to_asn1(load_certificate(keys_dir / "issuing-ca.pem"))]
        config = generation.pkcs11
        signer: signers.Signer
        if config is not None:
            if token_signer is None:
                raise MissingSigningKey(generation.department, "its key is in a PKCS#11 token; set SANAD_PKCS11_PIN")
            signer = token_signer(config, signing_cert, chain)
        else:
            pair = load_pair(generation.directory / "signing")
            signer = _ParsedKeySigner(pair.private_key, signing_cert, chain)
        return cls(generation.department, TemplateSigner(signer), generation.certificate, generation.key_id, profile)

    @classmethod
    def load(cls, keys_dir: Path, code: str, profile: SigningProfile = B_B_PROFILE) -> DepartmentSigner:
        """The department's active key file (tests and tools; the app uses the registry)."""
        generation = current_generation(keys_dir, code)
        if generation is None:
            raise MissingSigningKey(code)
        return cls.from_generation(keys_dir, generation, profile)

    @property
    def writes_revision_itself(self) -> bool:
        """Whether rendered files get their signature's revision from
        ``issuer.signature_revision`` (pyHanko writes it for a key that module does not
        write for, and for a file of another shape)."""
        return self._revision is not None

    def sign_raw(self, data: bytes) -> bytes:
        """A DER-encoded ECDSA-SHA256 signature over ``data`` with this key."""
        inner = self._signer.inner if isinstance(self._signer, TemplateSigner) else self._signer
        if isinstance(inner, _ParsedKeySigner):
            return inner.sign_now(data)  # a seal's signature: no event loop for a key in memory
        signature: bytes = _run(self._signer.async_sign_raw(data, "sha256"))
        return signature

    def sign(self, pdf: bytes, *, now: datetime | None = None) -> bytes:
        """Return ``pdf`` with a certifying PAdES signature (no changes allowed) appended,
        at the profile's level."""
        return self.sign_document(pdf, now=now).pdf

    def sign_document(
        self,
        pdf: bytes,
        *,
        now: datetime | None = None,
        defer_long_term: bool = False,
        with_pyhanko: bool = False,
    ) -> SignedDocument:
        """Sign at the profile's level and say what the registry records about the result
        (reading it back from the file would cost more than the signature). With
        ``defer_long_term`` a long-term profile stops at B-T, with the long-term revision
        pending (``SignedDocument.long_term_pending``). ``with_pyhanko`` writes the
        signature's revision with pyHanko's own reader and writer, the reference that
        ``issuer.signature_revision`` is held to (files of another shape always are)."""
        try:
            return _run(self._sign(pdf, now or datetime.now(UTC), defer_long_term, with_pyhanko))
        except SanadError:
            raise
        except SigningError as e:
            if _is_network_failure(e):
                raise SigningFailed(f"the document could not be signed at {self.profile.level}: {e}") from e
            # pyHanko validates our own chain before embedding its revocation data (B-LT
            # and up): a revoked or expired department certificate must stop issuance.
            raise SigningKeyUnusable(self.code, self.key_id, str(e)) from e
        except Exception as e:
            if self.profile.level.timestamped and _is_network_failure(e):
                raise SigningFailed(f"the document could not be signed at {self.profile.level}: {e}") from e
            raise

    async def _sign(self, pdf: bytes, moment: datetime, defer_long_term: bool, with_pyhanko: bool) -> SignedDocument:
        profile = self.profile
        if profile.level.long_term:
            self._refuse_unless_valid_at(moment)
        # One signature on a loop of its own (_run): nothing to overlap the TSA's answer with.
        recorder = (
            RecordingTimeStamper(profile.timestamper, on_this_thread=True) if profile.timestamper is not None else None
        )
        prepared = None
        if self._revision is not None and not with_pyhanko:
            prepared = self._revision.prepare(pdf, moment)
        if prepared is None:
            signed = await self._sign_with_pyhanko(pdf, recorder)
        else:
            container = await self._signer.async_sign(
                prepared.digest(),
                DIGEST_ALGORITHM,
                use_pades=True,
                timestamper=recorder,
                signed_attr_settings=PdfCMSSignedAttributes(signing_time=moment),
            )
            signed = prepared.embed(container.dump())
        if recorder is None:
            return SignedDocument(signed, len(signed), None, SignatureLevel.B_B)
        if not profile.level.long_term:
            return SignedDocument(signed, len(signed), None, SignatureLevel.B_T)
        token = recorder.responses[-1]["time_stamp_token"]
        if defer_long_term:
            return SignedDocument(signed, len(signed), None, SignatureLevel.B_T, profile.level, token)
        try:
            return await self._add_long_term_evidence(signed, token)
        except long_term.LongTermUnavailable as e:
            log.warning("issued at B-T, %s to follow: %s", profile.level, e)
            return SignedDocument(signed, len(signed), None, SignatureLevel.B_T, profile.level)

    async def _sign_with_pyhanko(self, pdf: bytes, recorder: RecordingTimeStamper | None) -> bytes:
        pdf_signer = signers.PdfSigner(
            certification_metadata(),
            signer=self._signer,
            timestamper=recorder,
            new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD),
        )
        output = BytesIO()
        reserved = BYTES_RESERVED_T if self.profile.level.timestamped else BYTES_RESERVED_B
        writer = long_term.UnstampedWriter(BytesIO(pdf), strict=False)
        await pdf_signer.async_sign_pdf(writer, output=output, bytes_reserved=reserved)
        return output.getvalue()

    async def _add_long_term_evidence(self, signed: bytes, token: cms.ContentInfo) -> SignedDocument:
        """B-LT (and B-LTA) on the freshly signed B-T file, with revocation data produced
        after its timestamp; the next document timestamp's TSA is covered as well."""
        profile = self.profile
        sources = profile.revocation_sources()
        signer_chain = [self.certificate, *profile.intermediates]
        needs = long_term.needs_for(
            signer_chain, token, sources, also=await timestamp_authority_certificates(profile.timestamper)
        )
        try:
            evidence = await asyncio.to_thread(long_term.gather, needs, sources)
        except long_term.CertificateRevoked as e:
            if e.certificate in signer_chain:
                raise SigningKeyUnusable(self.code, self.key_id, str(e)) from e
            raise SigningFailed(f"the time-stamping authority cannot be relied on: {e}") from e
        stamper = None
        if profile.level == SignatureLevel.B_LTA:
            assert profile.timestamper is not None
            stamper = RecordingTimeStamper(profile.timestamper, on_this_thread=True)
        final = await long_term.append_evidence(
            signed, evidence, timestamper=stamper, field_name=ARCHIVE_TIMESTAMP_FIELD
        )
        expiry = stamper.certificate_expiry() if stamper is not None else None
        return SignedDocument(final, len(signed), expiry, profile.level)

    def complete_long_term(self, documents: Sequence[SignedDocument]) -> list[SignedDocument]:
        """The long-term revisions of ``documents`` this signer signed with
        ``defer_long_term``, added together (a batch's chunk): one gathering of revocation
        data, produced after the newest of their timestamps, serves every one of them, so
        it waits at most once for the next second and each file is stored once, at its
        level. A document whose revision cannot be added now comes back unchanged (still
        pending, for the job engine's retry, which also reports a revocation)."""
        return _run(self._complete_long_term(documents))

    async def _complete_long_term(self, documents: Sequence[SignedDocument]) -> list[SignedDocument]:
        profile = self.profile
        pending = [d for d in documents if d.pending_level is not None and d.timestamp_token is not None]
        if not pending or not profile.level.long_term:
            return list(documents)
        sources = profile.revocation_sources()
        signer_chain = [self.certificate, *profile.intermediates]
        try:
            upcoming = await timestamp_authority_certificates(profile.timestamper)
            each = [long_term.needs_for(signer_chain, d.timestamp_token, sources, also=upcoming) for d in pending]
            together = long_term.EvidenceNeeds(
                tuple(long_term.unique_certificates(c for needs in each for c in needs.certificates)),
                max(needs.timestamp_time for needs in each),
            )
            evidence = await asyncio.to_thread(long_term.gather, together, sources)
        except Exception as e:  # unavailable, revoked, a responder down: the job retries
            log.warning("%d documents stay at B-T, %s to follow: %s", len(pending), profile.level, e)
            return list(documents)
        in_flight = asyncio.Semaphore(TIMESTAMPS_IN_FLIGHT)

        async def complete(document: SignedDocument) -> SignedDocument:
            stamper = None
            if profile.level == SignatureLevel.B_LTA:
                assert profile.timestamper is not None
                stamper = RecordingTimeStamper(profile.timestamper)
            async with in_flight:
                try:
                    final = await long_term.append_evidence(
                        document.pdf, evidence, timestamper=stamper, field_name=ARCHIVE_TIMESTAMP_FIELD
                    )
                except Exception as e:  # the TSA went away mid-chunk: this one's job retries
                    log.warning("a document stays at B-T, %s to follow: %s", profile.level, e)
                    return document
            expiry = stamper.certificate_expiry() if stamper is not None else None
            return SignedDocument(final, document.signed_revision_end, expiry, profile.level)

        # The document timestamps overlap: one after the other, a chunk waited ~10 ms a
        # document for the TSA's answers while the worker's other job held the CPU.
        completed = {id(d): c for d, c in zip(pending, await asyncio.gather(*map(complete, pending)), strict=True)}
        return [completed.get(id(d), d) for d in documents]

    def _refuse_unless_valid_at(self, moment: datetime) -> None:
        """Long-term levels vouch for the signer's chain: an expired or not yet valid
        certificate stops issuance (a revoked one is caught by the fresh evidence)."""
        for certificate in (self.certificate, *self.profile.intermediates):
            if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
                why = f"{certificate.subject.rfc4514_string()} is not valid on {moment:%Y-%m-%d}"
                raise SigningKeyUnusable(self.code, self.key_id, why)


async def timestamp_authority_certificates(timestamper: TimeStamper | None) -> list[x509.Certificate]:
    """The certificates in the TSA's tokens (from the sample token the client caches)."""
    if timestamper is None:
        return []
    sample = await timestamper.async_dummy_response("sha256")
    return [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in sample["content"]["certificates"] or []
        if choice.name == "certificate"
    ]


@dataclass(frozen=True)
class SignedDocument:
    pdf: bytes
    signed_revision_end: int
    """The file up to here is what the department signed (later revisions: archival)."""
    archive_expires_at: datetime | None
    """B-LTA: when the document timestamp's TSA certificate expires."""
    level: SignatureLevel
    """The level the file reached: below the profile's when the long-term evidence could
    not be had yet or was deferred (B-T, to be raised on the job engine or by ``sanad
    archive refresh``)."""
    pending_level: SignatureLevel | None = None
    """The long-term level the file is still to reach (None: it reached its level)."""
    timestamp_token: cms.ContentInfo | None = None
    """The signature's timestamp token, while its long-term revision is pending: what
    :meth:`DepartmentSigner.complete_long_term` needs, without reading the file again."""

    @property
    def long_term_pending(self) -> bool:
        return self.pending_level is not None

    @property
    def recorded_level(self) -> SignatureLevel:
        """What the registry records: the level asked for, reached now or pending."""
        return self.pending_level or self.level


class RecordingTimeStamper(TimeStamper):
    """One document's view of the shared TSA client: keeps the tokens it fetched. Dummy
    responses (size estimates, the TSA's certificates) come from the shared client,
    which caches them. ``on_this_thread``: ask an HTTP TSA on the calling thread, for a
    signature whose event loop has nothing else to run while it waits."""

    def __init__(self, inner: TimeStamper, *, on_this_thread: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._inner = inner
        self._on_this_thread = on_this_thread and isinstance(inner, HttpTimeStamper)
        self.responses: list[tsp.TimeStampResp] = []

    async def async_dummy_response(self, md_algorithm: str) -> cms.ContentInfo:
        return await self._inner.async_dummy_response(md_algorithm)

    def validation_paths(self, validation_context: ValidationContext) -> Any:
        return self._inner.validation_paths(validation_context)  # type: ignore[no-untyped-call]

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        if self._on_this_thread:
            assert isinstance(self._inner, HttpTimeStamper)
            response: tsp.TimeStampResp = self._inner.request(req)
        else:
            response = await self._inner.async_request_tsa_response(req)
        self.responses.append(response)
        return response

    def certificate_expiry(self) -> datetime | None:
        """When the certificate that signed the last token expires."""
        if not self.responses:
            return None
        signed_data = self.responses[-1]["time_stamp_token"]["content"]
        sid = signed_data["signer_infos"][0]["sid"].chosen
        issuer = sid["issuer"]
        for choice in signed_data["certificates"] or []:
            certificate = choice.chosen
            # Names compared by their bytes first: asn1crypto's comparison prepares every
            # value as LDAP strings, ~0.6 ms a token. Equal bytes are equal names.
            if certificate.serial_number == sid["serial_number"].native and (
                certificate.issuer.dump() == issuer.dump() or certificate.issuer == issuer
            ):
                expiry: datetime = certificate.not_valid_after
                return expiry.astimezone(UTC)
        return None


T = TypeVar("T")


def _blocking_calls_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=64, thread_name_prefix="sanad-sign")


#: Document timestamps one chunk asks the TSA for at once: its answers overlap the waits,
#: few enough not to look like a flood to a public TSA.
TIMESTAMPS_IN_FLIGHT = 8

# The threads a signature's blocking calls run on (the timestamp request): shared by every
# signature's event loop instead of a new thread started and joined for each (0.4 ms of
# CPU and 1.2 ms of wall time a document).
_BLOCKING_CALLS = _blocking_calls_pool()


def _renew_blocking_calls_pool() -> None:
    # A forked child has none of the parent's threads, while the pool would count its
    # idle ones as there and wait for them for ever.
    global _BLOCKING_CALLS
    _BLOCKING_CALLS = _blocking_calls_pool()


os.register_at_fork(after_in_child=_renew_blocking_calls_pool)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` without its SIGINT handler. On the main thread (batch workers,
    commands) restoring that handler formatted the finished task, signed PDF and all:
    1-2 ms of a 5 ms signature. Ctrl-C still interrupts (KeyboardInterrupt)."""
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_BLOCKING_CALLS)
    try:
        return loop.run_until_complete(coroutine)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            # close() shuts its default executor down: the shared one stays, an unused
            # one (no thread yet) goes in its place.
            loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
            loop.close()


def _is_network_failure(error: BaseException) -> bool:
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (TimestampRequestError, OSError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SignerRegistry:
    """Each department's signer, loaded on first use and kept for the process's life."""

    def __init__(
        self,
        keys_dir: Path,
        profile: SigningProfile = B_B_PROFILE,
        token_signer: TokenSigner | None = None,
    ) -> None:
        self.keys_dir = keys_dir
        self.profile = profile
        self._token_signer = token_signer
        self._signers: dict[str, DepartmentSigner] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> DepartmentSigner:
        signer = self._signers.get(code)
        if signer is not None and signer.key_id != active_key_id(self.keys_dir, code):
            signer = None  # the key was rotated (``sanad keys rotate``): load the new one
        if signer is None:
            with self._lock:
                signer = self._signers.get(code)
                if signer is None or signer.key_id != active_key_id(self.keys_dir, code):
                    generation = current_generation(self.keys_dir, code)
                    if generation is None:
                        raise MissingSigningKey(code)
                    signer = DepartmentSigner.from_generation(
                        self.keys_dir, generation, self.profile, self._token_signer
                    )
                    self._signers[code] = signer
        return signer

    def forget(self, code: str) -> None:
        """Drop a cached signer (after a key rotation) so the next use loads the new key."""
        with self._lock:
            self._signers.pop(code, None)


class MissingSigningKey(SanadError):
    """A department has no usable signing key (run ``sanad keys init``)."""

    code = "signing_key_missing"

    def __init__(self, code: str, why: str = "run 'sanad keys init'") -> None:
        super().__init__(f"department {code!r} has no usable signing key; {why}")


def signing_profile(settings: Settings, crls: CrlFetcher | None = None) -> SigningProfile:
    """The deployment's signing profile from its settings."""
    level = SignatureLevel(settings.signature_level)
    if level == SignatureLevel.B_B:
        return B_B_PROFILE
    keys_dir = settings.keys_dir
    return SigningProfile(
        level,
        timestamper=HttpTimeStamper(settings.tsa_url or tsa_url(keys_dir)),
        crls=crls or CrlFetcher(ttl=settings.revocation_cache_seconds),
        trust_roots=(load_certificate(keys_dir / "root-ca.pem"),),
        intermediates=(load_certificate(keys_dir / "issuing-ca.pem"),),
        # Both kinds of revocation data: a CA may publish either, and validators differ.
        ocsp=OcspFetcher(ttl=settings.revocation_cache_seconds),
    )


def token_signers(settings: Settings) -> TokenSigner:
    """Signers for keys held in a PKCS#11 token; the token is opened on first use, so a
    deployment without token keys never loads a PKCS#11 module."""
    lock = threading.Lock()
    opened: list[Any] = []

    def signer(
        config: dict[str, Any], certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]
    ) -> signers.Signer:
        from issuer.pkcs11 import TokenKeys, default_module_path

        module = settings.pkcs11_module or default_module_path()
        if module is None or settings.pkcs11_pin is None:
            raise MissingSigningKey(
                str(config.get("department", "?")),
                "its key is in a PKCS#11 token: set SANAD_PKCS11_MODULE and SANAD_PKCS11_PIN",
            )
        with lock:
            if not opened:
                opened.append(TokenKeys(module, settings.pkcs11_pin))
            keys = opened[0]
        result: signers.Signer = keys.signer(config, certificate, chain)
        return result

    return signer
