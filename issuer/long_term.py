"""Long-term evidence for a timestamped signature: the step from PAdES B-T to B-LT and B-LTA.

Validators count revocation data as long-term evidence only if it was produced after the
signature's timestamp: EU DSS checks that a CRL's or OCSP response's ``thisUpdate`` is
later than the best-signature-time, for every certificate of the signer's and the TSA's
chains. Data fetched before signing (or cached from before) can never pass, so it cannot
go into the signature's own revision. It goes into a revision appended after signing,
fetched once the timestamp exists; for B-LTA the document timestamp over it is written
in the same revision.

CRL and OCSP times are whole seconds (RFC 5280; the ``cryptography`` library refuses
OCSP times with fractions), and so is our TSA's: data newer than a timestamp made at
12:00:00 exists from 12:00:01 on. Gathering therefore waits for the next second when it
must (never CPU, at most ``MAX_WAIT``); the fetchers share what they fetch, so one answer
per certificate and second serves every document signed in the second before.

What could not be had now (a responder down, an answer not newer than the timestamp) is
``LongTermUnavailable``: the document stays at B-T and ``sanad archive refresh`` tries
again. A certificate the answers show revoked is ``CertificateRevoked``.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer import evidence_revision
from trust.revocation import (
    CrlSource,
    OcspFetcher,
    RevocationAnswer,
    RevocationAnswerInvalid,
    RevocationDataUnavailable,
    distribution_points,
    issuer_of,
    ocsp_urls,
    read_crl_answer,
    read_ocsp_answer,
)

# Reading an answer checks its signature, and finding a certificate's issuer checks the
# certificate's: pure functions of the bytes (cryptography's certificates hash and compare
# by their DER). Every document signed within the same second embeds the same answers, so
# each is checked once, not once per document (three signature checks a document, most of
# gathering's CPU when the answers are shared). An answer that fails is not remembered.
_ANSWERS_KEPT = 64
_read_ocsp_answer = functools.lru_cache(maxsize=_ANSWERS_KEPT)(read_ocsp_answer)
_read_crl_answer = functools.lru_cache(maxsize=_ANSWERS_KEPT)(read_crl_answer)


@functools.lru_cache(maxsize=_ANSWERS_KEPT)
def _issuer_among(certificate: x509.Certificate, candidates: tuple[x509.Certificate, ...]) -> x509.Certificate | None:
    return issuer_of(certificate, candidates)


log = logging.getLogger(__name__)
_DIGEST = "sha256"

MAX_WAIT = timedelta(seconds=2)
"""The longest gathering waits for data newer than the timestamp (one second, plus room
for the TSA's and the responders' clocks to differ from ours by a little)."""


class LongTermUnavailable(Exception):
    """Fresh revocation data could not be had now; the document stays at B-T."""


class CertificateRevoked(Exception):
    """A certificate the evidence must cover is revoked."""

    def __init__(self, certificate: x509.Certificate, source: str) -> None:
        super().__init__(f"{certificate.subject.rfc4514_string()} is revoked (per its {source})")
        self.certificate = certificate


@dataclass(frozen=True)
class EvidenceNeeds:
    """What a signature's long-term evidence must cover."""

    certificates: tuple[x509.Certificate, ...]
    """The signer's certificate, its CAs, and the TSA's certificates (not the roots)."""
    timestamp_time: datetime
    """The signature timestamp's genTime: every answer must be produced after it."""


@dataclass(frozen=True)
class Evidence:
    """Certificates and answers for the document security store."""

    certificates: tuple[x509.Certificate, ...]
    ocsp_responses: tuple[bytes, ...]
    crls: tuple[bytes, ...]

    @functools.cached_property
    def certificates_der(self) -> list[bytes]:
        """The certificates' DER, encoded once: a chunk's documents share one evidence."""
        return [_der(c) for c in self.certificates]


@dataclass(frozen=True)
class RevocationSources:
    """Where answers come from and which certificates end the chains."""

    ocsp: OcspFetcher | None
    crls: CrlSource
    trust_roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def unique_certificates(certificates: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """``certificates`` without repeats, in their first order. Certificates are equal, and
    hash, by their DER (in cryptography's Rust code, not by encoding each one here)."""
    return list(dict.fromkeys(certificates))


def token_facts(token: cms.ContentInfo) -> tuple[datetime, list[x509.Certificate]]:
    """A timestamp token's genTime and the certificates it carries."""
    signed_data = token["content"]
    gen_time: datetime = signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    certificates = [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in signed_data["certificates"] or []
        if choice.name == "certificate"
    ]
    return gen_time.astimezone(UTC), certificates


def needs_for(
    signer: Sequence[x509.Certificate],
    token: cms.ContentInfo,
    sources: RevocationSources,
    also: Iterable[x509.Certificate] = (),
) -> EvidenceNeeds:
    """The needs of a signature by ``signer`` (its certificate first) timestamped with
    ``token``; ``also``: more certificates to cover (the next document timestamp's TSA)."""
    gen_time, tsa = token_facts(token)
    roots = set(sources.trust_roots)
    certificates = [
        certificate
        for certificate in unique_certificates([*signer, *sources.intermediates, *tsa, *also])
        if certificate not in roots and certificate.issuer != certificate.subject
    ]
    return EvidenceNeeds(tuple(certificates), gen_time)


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _only_signature(pdf: bytes) -> cms.SignedData:
    """The CMS of the one signature in a file signed at B-T, found by its byte range.

    A signature's /ByteRange and /Contents are always written in the clear (never in a
    compressed object stream), and the range spans everything but the contents: the hex
    string sits exactly between its two parts. Parsing the file with pyHanko to get there
    reads the 32 KB hex string a token at a time (~15 ms of the job's CPU per document)."""
    ranges = [tuple(int(n) for n in match.groups()) for match in _BYTE_RANGE.finditer(pdf)]
    if len(ranges) != 1:
        raise ValueError(f"expected one signature, found {len(ranges)}")
    start, first, second, length = ranges[0]
    if start != 0 or not first < second <= second + length <= len(pdf):
        raise ValueError("the signature's byte range does not fit the file")
    contents = pdf[first:second]
    if contents[:1] != b"<" or contents[-1:] != b">":
        raise ValueError("the signature's contents are not where its byte range says")
    # The reserved room is padded with zeros after the DER: asn1crypto reads one value.
    info = cms.ContentInfo.load(bytes.fromhex(contents[1:-1].decode("ascii")), strict=False)
    signed_data: cms.SignedData = info["content"]
    return signed_data


def needs_of_pdf(pdf: bytes, sources: RevocationSources, also: Iterable[x509.Certificate] = ()) -> EvidenceNeeds:
    """The needs of the one signature in a signed file (the retry of a document left at B-T)."""
    signed_data = _only_signature(pdf)
    signer_info = signed_data["signer_infos"][0]
    token = next(
        (
            value
            for attribute in signer_info["unsigned_attrs"] or []
            if attribute["type"].native == "signature_time_stamp_token"
            for value in attribute["values"]
        ),
        None,
    )
    if token is None:
        raise ValueError("the signature has no timestamp (B-B): long-term evidence needs one")
    carried = [
        x509.load_der_x509_certificate(choice.chosen.dump())
        for choice in signed_data["certificates"] or []
        if choice.name == "certificate"
    ]
    sid = signer_info["sid"]
    if sid.name != "issuer_and_serial_number":
        raise ValueError("the signature names its signer other than by issuer and serial number")
    ids = sid.chosen
    signer = [c for c in carried if c.serial_number == ids["serial_number"].native and _is_issuer(c, ids["issuer"])]
    if not signer:
        raise ValueError("the signature does not carry its signer's certificate")
    return needs_for([*signer, *carried], token, sources, also)


def _is_issuer(certificate: x509.Certificate, name: asn1_x509.Name) -> bool:
    return bool(certificate.issuer.public_bytes() == name.dump())


def gather(
    needs: EvidenceNeeds,
    sources: RevocationSources,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Evidence:
    """Answers produced after the signature timestamp for every needed certificate: an OCSP
    response where the certificate names a responder, else its issuer's CRL."""
    after = needs.timestamp_time
    # Nothing stamped within the timestamp's own second can be later than it.
    ready_at = after.replace(microsecond=0) + timedelta(seconds=1)
    wait = ready_at - now()
    if wait > MAX_WAIT:
        raise LongTermUnavailable(f"the signature timestamp ({after.isoformat()}) is ahead of this clock")
    if wait > timedelta(0):
        sleep(wait.total_seconds())
    anchors = (*sources.intermediates, *sources.trust_roots, *needs.certificates)
    ocsp_responses: list[bytes] = []
    crls: list[bytes] = []
    for certificate in needs.certificates:
        issuer = _issuer_among(certificate, anchors)
        if issuer is None:
            raise LongTermUnavailable(f"no issuer certificate for {certificate.subject.rfc4514_string()}")
        try:
            der, answer = _fresh_answer(certificate, issuer, needs, sources)
        except (RevocationDataUnavailable, RevocationAnswerInvalid) as e:
            raise LongTermUnavailable(str(e)) from e
        if answer.revoked:
            raise CertificateRevoked(certificate, answer.source)
        if answer.this_update <= after:
            raise LongTermUnavailable(
                f"the newest {answer.source} for {certificate.subject.rfc4514_string()} "
                f"({answer.this_update.isoformat()}) is not later than the signature timestamp ({after.isoformat()})"
            )
        (ocsp_responses if answer.source == "ocsp" else crls).append(der)
    return Evidence(
        tuple(unique_certificates([*needs.certificates, *sources.intermediates])),
        tuple(dict.fromkeys(ocsp_responses)),
        tuple(dict.fromkeys(crls)),
    )


def _fresh_answer(
    certificate: x509.Certificate, issuer: x509.Certificate, needs: EvidenceNeeds, sources: RevocationSources
) -> tuple[bytes, RevocationAnswer]:
    """The certificate's OCSP answer if it names a responder and the answer is fresh, else
    its issuer's CRL if that is; failing both, the freshest answer there is (the caller
    finds it too old)."""
    after = needs.timestamp_time
    ocsp_answer: tuple[bytes, RevocationAnswer] | None = None
    urls = ocsp_urls(certificate)
    if urls and sources.ocsp is not None:
        try:
            der = sources.ocsp.fetch(certificate, issuer, urls[0], fresh_after=after)
            ocsp_answer = (der, _read_ocsp_answer(der, certificate, issuer))
        except (RevocationDataUnavailable, RevocationAnswerInvalid):
            if not distribution_points(certificate):
                raise  # no CRL to fall back on
        if ocsp_answer is not None and (ocsp_answer[1].this_update > after or ocsp_answer[1].revoked):
            return ocsp_answer
    crl_answer = _freshest_crl(certificate, issuer, needs, sources)
    candidates = [answer for answer in (ocsp_answer, crl_answer) if answer is not None]
    if not candidates:
        raise LongTermUnavailable(f"no revocation data names {certificate.subject.rfc4514_string()}")
    return max(candidates, key=lambda answer: answer[1].this_update)


def _freshest_crl(
    certificate: x509.Certificate, issuer: x509.Certificate, needs: EvidenceNeeds, sources: RevocationSources
) -> tuple[bytes, RevocationAnswer] | None:
    """The issuer's CRL, from where this certificate says (or a sibling of the same issuer,
    for a certificate that names no distribution point)."""
    siblings = [c for c in needs.certificates if c.issuer == certificate.issuer]
    named = [certificate] if distribution_points(certificate) else siblings
    best: tuple[bytes, RevocationAnswer] | None = None
    for der in sources.crls.crls_for(named, fresh_after=needs.timestamp_time):
        try:
            answer = _read_crl_answer(der, certificate, issuer)
        except RevocationAnswerInvalid:
            continue  # another CA's list
        if best is None or answer.this_update > best[1].this_update:
            best = (der, answer)
    return best


class UnstampedWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's metadata alone. pyHanko's stamps
    /ModDate (Info dictionary and XMP) on every write; a revision that touches nothing but
    the document security store is one a verifier can tell apart from an edit. The
    signature's own revision uses it too: the file was rendered a moment before, its Info
    and XMP agree (as PDF/A requires) and stay so, and rewriting the XMP packet was a
    fifth of a B-B signature's CPU. The signing time is in the signature dictionary."""

    def _update_meta(self) -> None:
        return None


async def append_evidence(
    pdf: bytes,
    evidence: Evidence,
    *,
    timestamper: TimeStamper | None = None,
    field_name: str = "ArchiveTimestamp",
    with_pyhanko: bool = False,
) -> bytes:
    """Append one revision: the evidence in the document security store and, with a
    ``timestamper`` (B-LTA), a document timestamp over everything in the same revision.

    A file as our signer writes it gets the revision from ``issuer.evidence_revision``;
    ``with_pyhanko`` writes it with pyHanko's reader and writer, the reference that module
    is held to (files of another shape always are)."""
    if not with_pyhanko:
        written = await _append_directly(pdf, evidence, timestamper, field_name)
        if written is not None:
            return written
    return await _append_with_pyhanko(pdf, evidence, timestamper, field_name)


async def _append_directly(
    pdf: bytes, evidence: Evidence, timestamper: TimeStamper | None, field_name: str
) -> bytes | None:
    ders = evidence_revision.EvidenceDer(evidence.certificates_der, evidence.ocsp_responses, evidence.crls)
    if timestamper is None:
        return evidence_revision.append_dss(pdf, ders)
    # Room for the token as pyHanko reserves it: the TSA client's (cached) dummy token's
    # size, and a quarter of it twice over.
    dummy_digits = len((await timestamper.async_dummy_response(_DIGEST)).dump()) * 2
    prepared = evidence_revision.prepare_timestamped(
        pdf, ders, field_name=field_name, contents_hex_digits=dummy_digits + 2 * (dummy_digits // 4)
    )
    if prepared is None:
        return None
    token = await timestamper.async_timestamp(prepared.digest(), _DIGEST)
    try:
        return prepared.embed(token.dump())
    except ValueError:
        log.warning("the document timestamp outgrew the room reserved for it; pyHanko writes the revision")
        return None


async def _append_with_pyhanko(
    pdf: bytes, evidence: Evidence, timestamper: TimeStamper | None, field_name: str
) -> bytes:
    """``append_evidence`` by pyHanko's reader and writer, for a file of any shape."""
    writer = UnstampedWriter(BytesIO(pdf), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        certs=[asn1_x509.Certificate.load(_der(c)) for c in evidence.certificates],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in evidence.ocsp_responses],
        crls=[asn1_crl.CertificateList.load(der) for der in evidence.crls],
        embed_roots=False,
    )
    output = BytesIO()
    if timestamper is None:
        writer.write(output)  # type: ignore[no-untyped-call]
    else:
        await PdfTimeStamper(timestamper, field_name=field_name).async_timestamp_pdf(
            writer, _DIGEST, output=output, embed_roots=False
        )
    return output.getvalue()
