"""What a signed file says about itself, and renewing its archival timestamp (B-LTA).

A B-LTA document ends with a document timestamp. Its evidence lasts as long as the
timestamp's TSA certificate (and the hash algorithm) can be trusted; before the TSA
certificate expires, a new document timestamp over everything — including fresh
revocation data for the previous one — carries the evidence forward. Each refresh
appends a revision; what the department signed (the certified revision) never changes.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper, TimestampDSSContentSettings
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer import long_term
from issuer.sign import (
    ARCHIVE_TIMESTAMP_FIELD,
    RecordingTimeStamper,
    SignatureLevel,
    SigningProfile,
    timestamp_authority_certificates,
    to_asn1,
)


@dataclass(frozen=True)
class SignedFile:
    """The facts issuance and the archive job record about a signed PDF."""

    signed_sha256: str
    """SHA-256 of the file up to the end of the certified revision."""
    archive_expires_at: datetime | None
    """When the last document timestamp's TSA certificate expires (None: no timestamp)."""


def _tsa_certificate_expiry(signed_data: cms.SignedData) -> datetime | None:
    signer_info = signed_data["signer_infos"][0]
    sid = signer_info["sid"]
    for choice in signed_data["certificates"]:
        certificate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ids = sid.chosen
            if certificate.serial_number == ids["serial_number"].native and certificate.issuer == ids["issuer"]:
                expiry: datetime = certificate.not_valid_after
                return expiry.astimezone(UTC)
    return None


def describe(pdf: bytes) -> SignedFile:
    """Read the facts from a file Sanad signed. Reads the signature dictionaries straight
    from the form's fields: pyHanko's ``embedded_signatures`` costs ~13 ms, too much on
    the issuing path for two numbers."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    signatures: list[tuple[int, generic.DictionaryObject]] = []
    timestamps: list[tuple[int, generic.DictionaryObject]] = []
    for reference in reader.root["/AcroForm"]["/Fields"]:
        field = reference.get_object()
        if field.get("/FT") != "/Sig" or "/V" not in field:
            continue
        value = field["/V"].get_object()
        byte_range = [int(n) for n in value["/ByteRange"]]
        end = byte_range[2] + byte_range[3]
        (timestamps if value.get("/Type") == "/DocTimeStamp" else signatures).append((end, value))
    if len(signatures) != 1:
        raise ValueError(f"expected one signature, found {len(signatures)}")
    end = signatures[0][0]
    expiry = None
    if timestamps:
        newest = max(timestamps, key=lambda item: item[0])[1]
        expiry = _tsa_certificate_expiry(cms.ContentInfo.load(bytes(newest["/Contents"]))["content"])
    return SignedFile(hashlib.sha256(pdf[:end]).hexdigest(), expiry)


def refresh(pdf: bytes, profile: SigningProfile, *, now: datetime | None = None) -> bytes:
    """Append one revision: revocation data for the previous timestamps' TSA chain and the
    new TSA's, then a new document timestamp over everything (so the file stays fully
    covered by its last timestamp). ``now`` is the run's time, for the expiry check; the
    revocation data is validated as of the clock when it is fetched."""
    if profile.timestamper is None or profile.crls is None:
        raise ValueError("an archive refresh needs a timestamp authority and revocation data")
    now = now or datetime.now(UTC)
    facts = describe(pdf)
    if facts.archive_expires_at is not None and facts.archive_expires_at <= now:
        raise ValueError("the archival timestamp's TSA certificate has already expired: the chain lapsed")
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    stamps = sorted(reader.embedded_timestamp_signatures, key=lambda s: s.signed_revision)
    previous: list[x509.Certificate] = []
    if stamps:
        for choice in stamps[-1].signed_data["certificates"]:
            previous.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    current_tsa = asyncio.run(timestamp_authority_certificates(profile.timestamper))
    context = profile.validation_context([*previous, *current_tsa])
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(
        writer,
        None,
        certs=[to_asn1(c) for c in (*previous, *profile.intermediates)],
        crls=[asn1_crl.CertificateList.load(der) for der in profile.crls.crls_for([*previous, *profile.intermediates])],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in _ocsp_for(profile, previous)],
        embed_roots=False,
    )
    stamper = PdfTimeStamper(profile.timestamper, field_name=f"{ARCHIVE_TIMESTAMP_FIELD}{len(stamps) + 1}")
    output = BytesIO()
    asyncio.run(
        stamper.async_timestamp_pdf(
            writer,
            "sha256",
            validation_context=context,
            # The new TSA's revocation data goes in before the timestamp, in its revision.
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
            output=output,
            embed_roots=False,
        )
    )
    return output.getvalue()


def _ocsp_for(profile: SigningProfile, certificates: list[x509.Certificate]) -> list[bytes]:
    if profile.ocsp is None:
        return []
    issuers = [*profile.intermediates, *profile.trust_roots]
    return profile.ocsp.responses_for([*certificates, *profile.intermediates], issuers)


@dataclass(frozen=True)
class RaisedFile:
    """A document left at B-T, with its long-term evidence added."""

    pdf: bytes
    level: SignatureLevel
    archive_expires_at: datetime | None


def raise_to_level(pdf: bytes, profile: SigningProfile) -> RaisedFile:
    """Bring a B-T file up to the profile's long-term level (B-LT or B-LTA): revocation data
    produced after its signature timestamp in an appended revision, and for B-LTA a
    document timestamp in that revision. Raises ``long_term.LongTermUnavailable`` when the
    data still cannot be had, ``long_term.CertificateRevoked`` when it shows a revocation."""
    if not profile.level.long_term or profile.crls is None:
        raise ValueError(f"{profile.level} is not a long-term level")
    sources = profile.revocation_sources()
    upcoming = asyncio.run(timestamp_authority_certificates(profile.timestamper))
    evidence = long_term.gather(long_term.needs_of_pdf(pdf, sources, also=upcoming), sources)
    stamper = None
    if profile.level == SignatureLevel.B_LTA:
        assert profile.timestamper is not None
        stamper = RecordingTimeStamper(profile.timestamper)
    raised = asyncio.run(
        long_term.append_evidence(pdf, evidence, timestamper=stamper, field_name=ARCHIVE_TIMESTAMP_FIELD)
    )
    return RaisedFile(raised, profile.level, stamper.certificate_expiry() if stamper is not None else None)
