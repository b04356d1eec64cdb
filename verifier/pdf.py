"""Cryptographic and structural checks of an uploaded PDF, with a report per signature.
Fails closed: anything the checks cannot explain is a finding, never a pass.

Structure rules (each has tamper tests): exactly one signature, the certification
(DocMDP "no changes"), first; after it only document timestamps (B-LTA) and the DSS
updates that go with them; the last signature or timestamp covers the entire file, except
for revisions after it that do nothing but add a document security store (B-LT: new
objects, and the catalog's /DSS entry the only change); pyHanko's diff analysis finds
nothing but those archival updates.

Level (as EU DSS judges it): B-T needs a trusted signature timestamp; B-LT also needs
revocation data in the file, produced after that timestamp, for every certificate of the
signer's and the TSA's chains below the trust anchor; B-LTA also a document timestamp.

Time (ETSI EN 319 102-1, long-term validation, simplified): document timestamps are
checked newest first, the newest at the validation time and each earlier one at the
time of the one after it. The signature's own timestamp is checked at the time of the
oldest document timestamp (or at the validation time), and the signer's certificate at
the signature timestamp's time: so a signature stays valid after its certificate expires
or is revoked, as long as a trusted timestamp proves it was made before. Revocation data
comes from the document's DSS and, when the verifier has them, current CRLs and OCSP
responses.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel, SignatureStatus
from pyhanko_certvalidator import ValidationContext

from trust.revocation import CrlSource, OcspSource, RevocationDataUnavailable
from verifier.verdict import Finding, Reason, SignatureCheck, SignatureReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrustAnchors:
    """Parsed once at start-up from the PEM bundle of the PKI."""

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...]
    crls: CrlSource | None = None
    """Current revocation lists: fetched from the certificates' distribution points, or
    kept in an offline trust bundle. None: only what the document embeds is used."""
    ocsp: OcspSource | None = None
    """Current OCSP responses, in addition to the CRLs. None: none are asked for."""

    @classmethod
    def from_pem(cls, pem: bytes, crls: CrlSource | None = None, *, ocsp: OcspSource | None = None) -> TrustAnchors:
        roots: list[asn1_x509.Certificate] = []
        intermediates: list[asn1_x509.Certificate] = []
        for certificate in x509.load_pem_x509_certificates(pem):
            parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
            (roots if certificate.issuer == certificate.subject else intermediates).append(parsed)
        return cls(tuple(roots), tuple(intermediates), crls, ocsp)


@dataclass(frozen=True)
class _Evidence:
    """Certificates and revocation data: the document's DSS plus current CRLs and OCSP
    responses."""

    certificates: list[asn1_x509.Certificate]
    crls: list[asn1_crl.CertificateList]
    embedded_crls: list[asn1_crl.CertificateList]
    embedded_ocsps: list[asn1_ocsp.OCSPResponse]
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)

    def context(self, trust: TrustAnchors, moment: datetime) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(trust.roots),
            other_certs=[*trust.intermediates, *self.certificates],
            crls=list(self.crls),
            ocsps=list(self.ocsps),
            allow_fetching=False,
            # No revocation data for a certificate means no verdict on it.
            revocation_mode="hard-fail",
            # Current CRLs are newer than a past validation time; they still say
            # whether (and since when) a certificate was revoked.
            retroactive_revinfo=True,
            moment=moment,
        )


def _certificates_of(signature: EmbeddedPdfSignature) -> list[asn1_x509.Certificate]:
    found = [c.chosen for c in signature.signed_data["certificates"] or [] if c.name == "certificate"]
    for attribute in signature.signer_info["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            for token in attribute["values"]:
                found += [c.chosen for c in token["content"]["certificates"] or [] if c.name == "certificate"]
    return found


def _gather_evidence(reader: PdfFileReader, signatures: list[EmbeddedPdfSignature], trust: TrustAnchors) -> _Evidence:
    certificates: list[asn1_x509.Certificate] = []
    crls: list[asn1_crl.CertificateList] = []
    ocsps: list[asn1_ocsp.OCSPResponse] = []
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None
    if dss is not None:
        certificates += list(dss.load_certs())
        crls += [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
        ocsps += [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps]
    embedded_crls, embedded_ocsps = list(crls), list(ocsps)
    in_signatures = [c for s in signatures for c in _certificates_of(s)]
    certificates += in_signatures
    if trust.crls is not None:
        as_crypto = [x509.load_der_x509_certificate(c.dump()) for c in [*in_signatures, *trust.intermediates]]
        try:
            crls += [asn1_crl.CertificateList.load(der) for der in trust.crls.crls_for(as_crypto)]
        except RevocationDataUnavailable:
            log.warning("current revocation lists unavailable; using the document's own", exc_info=True)
    if trust.ocsp is not None:
        as_crypto = [x509.load_der_x509_certificate(c.dump()) for c in [*in_signatures, *trust.intermediates]]
        anchors = [x509.load_der_x509_certificate(c.dump()) for c in trust.roots]
        try:
            ocsps += [asn1_ocsp.OCSPResponse.load(der) for der in trust.ocsp.responses_for(as_crypto, anchors)]
        except RevocationDataUnavailable:
            log.warning("current OCSP responses unavailable; using the document's own", exc_info=True)
    return _Evidence(certificates, crls, embedded_crls, embedded_ocsps, ocsps)


def check_signature(pdf: bytes, trust: TrustAnchors, *, moment: datetime | None = None) -> SignatureCheck:
    """Check ``pdf`` against every signature rule; the result lists each failure and
    describes each signature and document timestamp."""
    check = SignatureCheck()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=True)
        signatures = reader.embedded_signatures
    except Exception as e:  # any parse failure of untrusted input is a format failure
        check.findings.append(Finding(Reason.FORMAT_FAILURE, f"the PDF structure could not be read ({e})"))
        return check
    try:
        asyncio.run(_check(check, pdf, reader, signatures, trust, moment or datetime.now(UTC)))
    except Exception as e:  # a malformed signature dictionary, CMS blob or DSS
        log.info("signature validation raised", exc_info=True)
        check.findings.append(Finding(Reason.FORMAT_FAILURE, f"the signature could not be processed ({e})"))
    return check


async def _check(
    check: SignatureCheck,
    pdf: bytes,
    reader: PdfFileReader,
    signatures: list[EmbeddedPdfSignature],
    trust: TrustAnchors,
    now: datetime,
) -> None:
    # In file order: the form's field order says nothing about which came first.
    signatures = sorted(signatures, key=lambda s: s.signed_revision)
    regular = [s for s in signatures if s.sig_object_type == "/Sig"]
    stamps = [s for s in signatures if s.sig_object_type == "/DocTimeStamp"]
    if not regular:
        check.findings.append(Finding(Reason.NO_SIGNATURE, "the document carries no digital signature"))
        return
    if len(regular) > 1 or len(regular) + len(stamps) != len(signatures):
        check.findings.append(Finding(Reason.MULTIPLE_SIGNATURES, f"expected one signature, found {len(regular)}"))
        return
    signature = regular[0]
    if signatures[0] is not signature:
        check.findings.append(Finding(Reason.MULTIPLE_SIGNATURES, "a timestamp precedes the signature"))
        return
    check.signed_revision_end = signature.byte_range[2] + signature.byte_range[3]
    check.certificates = tuple(c.dump() for s in signatures for c in _certificates_of(s))
    evidence = _gather_evidence(reader, signatures, trust)

    # Newest document timestamp first: each proves the state of everything before it.
    proof_time = now
    stamps_hold = True
    stamp_findings: list[Finding] = []
    for stamp in reversed(stamps):
        stamp_report, stamp_time = await _check_document_timestamp(stamp_findings, stamp, evidence, trust, proof_time)
        check.reports.insert(0, stamp_report)
        if stamp_time is None:
            stamps_hold = False
        else:
            proof_time = stamp_time

    # Validate the signer at the time its timestamp claims, once; the same call proves
    # (or not) that claim. Only if it is not proven is the signer checked again, now.
    claimed = _claimed_timestamp_time(signature)
    signer_time = claimed or now
    status = await async_validate_pdf_signature(
        signature,
        signer_validation_context=evidence.context(trust, signer_time),
        ts_validation_context=evidence.context(trust, proof_time),
    )
    timestamp = status.timestamp_validity
    proven = timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted
    if timestamp is not None and not proven:
        check.findings.append(
            Finding(
                Reason.TIMESTAMP_UNTRUSTED,
                f"the signature's timestamp is not from a trusted time-stamping authority ({_problem(timestamp)})",
            )
        )
    proven_time = timestamp.timestamp if proven and timestamp is not None else None
    if claimed is not None and proven_time != claimed:
        signer_time = proven_time or now
        status = await async_validate_pdf_signature(
            signature,
            signer_validation_context=evidence.context(trust, signer_time),
            ts_validation_context=evidence.context(trust, proof_time),
        )
    last = stamps[-1] if stamps else signature
    # Revisions after the last signature or timestamp: only a DSS may have been added (B-LT).
    dss_after_last = (
        last.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and last.signed_revision < reader.xrefs.total_revisions - 1
        and _only_dss_added_after(reader, last.signed_revision)
        and _ends_with_last_revision(pdf, reader)
    )
    report = _signature_report(status, signature, evidence, stamps_hold and bool(stamps))
    check.reports.insert(0, report)
    check.signer_subject = report.signer
    check.signer_department = status.signing_cert.subject.native.get("organizational_unit_name")
    if status.signer_reported_dt is not None:
        check.signed_at = status.signer_reported_dt.isoformat()
    check.level = report.level
    check.findings.extend(
        _signature_findings(
            status, signature.docmdp_level, archival_updates=bool(stamps) or dss_after_last, signer_time=signer_time
        )
    )
    given = {f.reason for f in check.findings}
    check.findings.extend(f for f in stamp_findings if f.reason not in given)
    if (
        last.coverage != SignatureCoverageLevel.ENTIRE_FILE
        and not dss_after_last
        and not any(f.reason == Reason.NOT_ENTIRE_FILE for f in check.findings)
    ):
        check.findings.append(
            Finding(Reason.NOT_ENTIRE_FILE, "the file has content outside the signed range (added after signing)")
        )


async def _check_document_timestamp(
    findings: list[Finding], stamp: EmbeddedPdfSignature, evidence: _Evidence, trust: TrustAnchors, at: datetime
) -> tuple[SignatureReport, datetime | None]:
    status = await async_validate_pdf_timestamp(stamp, validation_context=evidence.context(trust, at))
    report = SignatureReport(
        kind="document-timestamp",
        field_name=stamp.field_name,
        signer=status.signing_cert.subject.human_friendly,
        timestamp_time=status.timestamp.isoformat(),
        chain=_chain(status),
        revocation=_revocation(status),
        coverage=_coverage(status.coverage),
        modifications=_modifications(status.modification_level),
    )
    if not status.intact:
        findings.append(Finding(Reason.DIGEST_MISMATCH, "a document timestamp does not match the file"))
    elif not status.valid:
        findings.append(Finding(Reason.SIGNATURE_INVALID, "a document timestamp's signature does not verify"))
    elif not status.trusted:
        findings.append(
            Finding(
                Reason.TIMESTAMP_UNTRUSTED,
                f"a document timestamp is not from a trusted time-stamping authority ({_problem(status)})",
            )
        )
    else:
        return report, status.timestamp
    report.indication = "FAILED"
    return report, None


def _claimed_timestamp_time(signature: EmbeddedPdfSignature) -> datetime | None:
    """The time the signature's first timestamp token states (not yet verified)."""
    for attribute in signature.signer_info["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            for token in attribute["values"]:
                gen_time: datetime = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
                return gen_time
    return None


def _problem(status: SignatureStatus) -> str:
    indic = status.trust_problem_indic
    return getattr(indic, "name", "no path to a trust anchor")


def _chain(status: SignatureStatus) -> list[str]:
    path = status.validation_path
    if path is None:
        return [status.signing_cert.subject.human_friendly]
    return [certificate.subject.human_friendly for certificate in reversed(list(path))]


def _revocation(status: SignatureStatus) -> str:
    if status.trusted:
        return "good"
    name = _problem(status)
    if "REVOKED" in name:
        return "revoked"
    return "unknown"


def _coverage(coverage: SignatureCoverageLevel | None) -> str:
    return (
        {
            SignatureCoverageLevel.ENTIRE_FILE: "entire-file",
            SignatureCoverageLevel.ENTIRE_REVISION: "entire-revision",
        }.get(coverage, "partial")
        if coverage is not None
        else "unknown"
    )


def _modifications(level: ModificationLevel | None) -> str:
    return "none" if level in (None, ModificationLevel.NONE) else level.name.lower().replace("_", "-")


def _ends_with_last_revision(pdf: bytes, reader: PdfFileReader) -> bool:
    """Whether nothing follows the end of the last revision (its cross-reference section,
    ``startxref`` and ``%%EOF``) but a line end."""
    tail = pdf[reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1) :]
    end = tail.find(b"%%EOF")
    return end != -1 and tail.count(b"startxref") == 1 and tail[end + 5 :].strip(b"\r\n") == b""


def _entry(dictionary: Any, key: str) -> Any:
    """A dictionary's value as written (a reference stays a reference), or None."""
    return dictionary.raw_get(key) if key in dictionary else None


def _only_dss_added_after(reader: PdfFileReader, revision: int) -> bool:
    """Whether every revision after ``revision`` only adds a document security store: it
    writes new objects, frees none, keeps the trailer's /Root, /Info and /Encrypt, and
    changes nothing in the catalog but its /DSS entry."""
    xrefs = reader.xrefs
    for later in range(revision + 1, xrefs.total_revisions):
        before, after = reader.get_historical_resolver(later - 1), reader.get_historical_resolver(later)
        if xrefs.refs_freed_in_revision(later) or any(
            _entry(before.trailer_view, key) != _entry(after.trailer_view, key)
            for key in ("/Root", "/Info", "/Encrypt")
        ):
            return False
        root = _entry(after.trailer_view, "/Root")
        for ref in xrefs.explicit_refs_in_revision(later):
            if ref == root.reference:
                old, new = before.root, after.root
                if any(_entry(old, key) != _entry(new, key) for key in (set(old) | set(new)) - {"/DSS"}):
                    return False
            elif xrefs.get_introducing_revision(ref) != later:
                return False  # an object that existed before was rewritten
    return True


def _revocation_after(certificate: asn1_x509.Certificate, evidence: _Evidence, moment: datetime) -> bool:
    """Whether the file itself holds an OCSP response for ``certificate``, or a CRL of its
    issuer, produced after ``moment``."""
    for response in evidence.embedded_ocsps:
        if response["response_status"].native != "successful":
            continue
        basic = response["response_bytes"]["response"].parsed
        for single in basic["tbs_response_data"]["responses"]:
            cert_id = single["cert_id"]
            algorithm = cert_id["hash_algorithm"]["algorithm"].native
            if (
                cert_id["serial_number"].native == certificate.serial_number
                and cert_id["issuer_name_hash"].native == hashlib.new(algorithm, certificate.issuer.dump()).digest()
                and single["this_update"].native > moment
            ):
                return True
    return any(
        crl["tbs_cert_list"]["issuer"] == certificate.issuer and crl["tbs_cert_list"]["this_update"].native > moment
        for crl in evidence.embedded_crls
    )


def _long_term_evidence(status: Any, evidence: _Evidence) -> bool:
    """B-LT as EU DSS judges it: every certificate of the signer's and the signature
    timestamp's chains, below the self-signed anchor, has revocation data in the file
    produced after the signature timestamp."""
    timestamp = status.timestamp_validity
    paths = (status.validation_path, timestamp.validation_path)
    if any(path is None for path in paths):
        return False
    return all(
        _revocation_after(certificate, evidence, timestamp.timestamp)
        for path in paths
        for certificate in path
        if isinstance(certificate, asn1_x509.Certificate) and not certificate.self_issued
    )


def _signature_report(
    status: Any, signature: EmbeddedPdfSignature, evidence: _Evidence, archived: bool
) -> SignatureReport:
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.trusted
    level = "B-B"
    if timestamped:
        level = "B-T"
        if _long_term_evidence(status, evidence):
            level = "B-LTA" if archived else "B-LT"
    return SignatureReport(
        kind="signature",
        field_name=signature.field_name,
        level=level,
        signer=status.signing_cert.subject.human_friendly,
        claimed_signing_time=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        timestamp_time=timestamp.timestamp.isoformat() if timestamp is not None else None,
        timestamp_authority=timestamp.signing_cert.subject.human_friendly if timestamp is not None else None,
        chain=_chain(status),
        revocation=_revocation(status),
        coverage=_coverage(status.coverage),
        modifications=_modifications(status.modification_level),
    )


def _signature_findings(
    status: Any, docmdp: MDPPerm | None, *, archival_updates: bool, signer_time: datetime
) -> list[Finding]:
    if not status.intact:
        return [Finding(Reason.DIGEST_MISMATCH, "the signed content was altered: its digest does not match")]
    if not status.valid:
        return [Finding(Reason.SIGNATURE_INVALID, "the signature value does not verify with the signer's key")]
    findings = []
    if not status.trusted:
        findings.append(_trust_finding(status, signer_time))
    allowed = (
        (None, ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
        if archival_updates
        else (None, ModificationLevel.NONE)
    )
    if status.modification_level not in allowed or status.docmdp_ok is False:
        findings.append(Finding(Reason.MODIFIED_AFTER_SIGNING, "the document was changed after it was signed"))
    if docmdp != MDPPerm.NO_CHANGES:
        findings.append(Finding(Reason.NOT_CERTIFIED, "the signature is not a certification that forbids all changes"))
    return findings


def _trust_finding(status: Any, signer_time: datetime) -> Finding:
    problem = _problem(status)
    certificate = status.signing_cert
    if certificate.not_valid_after < signer_time or certificate.not_valid_before > signer_time:
        return Finding(
            Reason.SIGNER_CERT_EXPIRED,
            "the signer's certificate was not valid at the signature's proven time, and no trusted "
            f"timestamp proves the signature was made while it was ({problem})",
        )
    if "REVOKED" in problem:
        return Finding(
            Reason.SIGNER_REVOKED,
            f"the signer's certificate was revoked before the signature's proven time ({problem})",
        )
    if problem in ("TRY_LATER", "REVOCATION_OUT_OF_BOUNDS_NO_POE") or "REVOCATION" in problem:
        return Finding(Reason.REVOCATION_UNKNOWN, f"the signer certificate's revocation status is unknown ({problem})")
    return Finding(
        Reason.UNTRUSTED_SIGNER, f"the signer's certificate is not trusted by Sanad's trust anchors ({problem})"
    )
