"""The long-term revision written without pyHanko's writer (issuer/evidence_revision.py):
the same document security store and the same catalog, form and page entries as
pyHanko's revision for the same signed file, at B-LT and at B-LTA; reported at the same
level by our verifier and accepted by pdfsig; refused by both once a byte the document
timestamp covers changes; a file of another shape goes to pyHanko."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from asn1crypto import cms, tsp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.api import TimeStamper

from issuer import evidence_revision, long_term
from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner, SignatureLevel
from issuer.templates import TemplateSpec
from tests.conftest import render_income_certificate
from tests.issuer.test_long_term import SIGNED_AT, Pki, check, running_pki
from tests.issuer.test_signature_revision import _pdfsig
from tests.judges.judges import require_judges, run_judge
from trust.revocation import OcspFetcher

WRITERS = ("ours", "pyhanko")
# Values that differ between two timestamps of the same file.
PER_TIMESTAMP = frozenset({"/Contents", "/ByteRange"})


@dataclass(frozen=True)
class Case:
    pki: Pki
    signed: bytes
    """B-T, as our signer writes it."""
    evidence: long_term.Evidence
    b_lt: dict[str, bytes]
    b_lta: dict[str, bytes]


@pytest.fixture(scope="module", params=["crls", "ocsp"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, unsigned: bytes) -> Iterator[Case]:
    """Evidence of CRLs only, or of OCSP responses (which carry their responder's
    certificate, added to the store beside them) where the certificates name a responder."""
    for pki in running_pki(tmp_path_factory.mktemp("evidence") / "pki"):
        profile = pki.profile(SignatureLevel.B_LTA)
        if request.param == "ocsp":
            profile = dataclasses.replace(profile, ocsp=OcspFetcher())
        signer = DepartmentSigner.load(pki.keys_dir, "REV", profile)
        assert signer.writes_revision_itself
        with time_machine.travel(SIGNED_AT, tick=True):
            signed = signer.sign_document(unsigned, defer_long_term=True).pdf
            sources = profile.revocation_sources()
            evidence = long_term.gather(long_term.needs_of_pdf(signed, sources), sources)
            b_lt = {w: _append(signed, evidence, None, with_pyhanko=w == "pyhanko") for w in WRITERS}
            b_lta = {w: _append(signed, evidence, profile.timestamper, with_pyhanko=w == "pyhanko") for w in WRITERS}
        assert bool(evidence.ocsp_responses) == (request.param == "ocsp")
        yield Case(pki, signed, evidence, b_lt, b_lta)


def _append(signed: bytes, evidence: long_term.Evidence, stamper: TimeStamper | None, *, with_pyhanko: bool) -> bytes:
    return asyncio.run(long_term.append_evidence(signed, evidence, timestamper=stamper, with_pyhanko=with_pyhanko))


@pytest.fixture(scope="module")
def unsigned(renderer: CertificateRenderer, templates: dict[str, TemplateSpec]) -> bytes:
    return render_income_certificate(renderer, templates, document_id="ev7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=SIGNED_AT)


def _plain(value: Any, old_size: int) -> Any:
    """A PDF value as Python data: references to the signed file's objects stay numbers,
    the revision's new objects are written out (their numbers differ between writers),
    streams are their data, the per-timestamp values are left out."""
    if isinstance(value, generic.IndirectObject):
        if value.idnum < old_size:
            return ("ref", value.idnum)
        return _plain(value.get_object(), old_size)  # type: ignore[no-untyped-call]
    if isinstance(value, generic.StreamObject):
        return ("stream", value.data)
    if isinstance(value, generic.DictionaryObject):
        return {str(k): _plain(v, old_size) for k, v in value.items() if k not in PER_TIMESTAMP}
    if isinstance(value, generic.ArrayObject):
        return [_plain(v, old_size) for v in value]
    if isinstance(value, (generic.TextStringObject, generic.ByteStringObject)):
        return bytes(value.original_bytes)
    return value


def _revision(pdf: bytes, signed: bytes) -> dict[str, Any]:
    """What the long-term revision changes, resolved: the catalog (and in it the DSS),
    the form's fields and the first page's annotations; and the objects it rewrites."""
    old_size = int(PdfFileReader(BytesIO(signed), strict=True).trailer["/Size"])
    reader = PdfFileReader(BytesIO(pdf), strict=True)
    assert reader.xrefs.total_revisions == 3
    rewritten = sorted(ref.idnum for ref in reader.xrefs.explicit_refs_in_revision(2) if ref.idnum < old_size)
    catalog = _plain(reader.root, old_size)
    dss = catalog.pop("/DSS")
    # pyHanko lists a store's entries in its own order; what a validator reads is the set.
    return {
        "catalog": catalog,
        "dss": {key: sorted(entries, key=repr) for key, entries in dss.items()},
        "fields": _plain(reader.root["/AcroForm"]["/Fields"], old_size),
        "annots": _plain(reader.root["/Pages"]["/Kids"][0].get_object()["/Annots"], old_size),
        "rewritten": rewritten,
        "trailer": sorted(str(k) for k in reader.trailer),
    }


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_both_writers_write_the_same_store_and_entries(case: Case, level: str) -> None:
    by_writer = case.b_lt if level == "B-LT" else case.b_lta
    ours, reference = (_revision(by_writer[w], case.signed) for w in WRITERS)

    assert ours == reference
    assert by_writer["ours"].startswith(case.signed)
    dss = ours["dss"]
    assert len(dss.get("/OCSPs", [])) == len(case.evidence.ocsp_responses)
    assert len(dss.get("/CRLs", [])) == len(case.evidence.crls)
    # The OCSP responses' own certificate (the development PKI's one responder) is added.
    assert len(dss["/Certs"]) == len(case.evidence.certificates) + (1 if case.evidence.ocsp_responses else 0)
    if level == "B-LTA":
        timestamp = ours["fields"][-1]["/V"]
        assert (timestamp["/Type"], timestamp["/SubFilter"]) == ("/DocTimeStamp", "/ETSI.RFC3161")


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_our_verifier_reports_the_same_level_for_either(case: Case, level: str, writer: str) -> None:
    pdf = (case.b_lt if level == "B-LT" else case.b_lta)[writer]

    assert check(case.pki, pdf, SIGNED_AT.replace(hour=11)) == (set(), level)


def test_pdfsig_reads_either_file_alike(case: Case, tmp_path: Path) -> None:
    # pdfsig checks the signature and finds the document timestamp covering the whole
    # file; it cannot validate an RFC 3161 timestamp (EU DSS does, in tests/judges).
    reports = {w: _pdfsig(case.b_lta[w], tmp_path, w) for w in WRITERS}

    for report in reports.values():
        assert report.count("Signature Validation: Signature is Valid.") == 1
        assert "Signature Field Name: ArchiveTimestamp" in report
        assert report.count("Total document signed") == 1
    ours, reference = ([line for line in r.splitlines() if "Signed Ranges" not in line] for r in reports.values())
    assert ours == [line.replace("pyhanko.pdf", "ours.pdf") for line in reference]


TAMPERED = ("an answer in the store", "the catalog's /DSS", "the cross-reference table")


@pytest.fixture(scope="module")
def tampered(case: Case, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Our B-LTA file with one byte of its long-term revision changed, at each place."""
    out = tmp_path_factory.mktemp("tampered")
    size = len(case.signed)
    answer = (*case.evidence.crls, *case.evidence.ocsp_responses)[0]
    files = {}
    for where in ("untouched", *TAMPERED):
        pdf = bytearray(case.b_lta["ours"])
        at = {
            "untouched": None,
            "an answer in the store": pdf.index(answer, size) + len(answer) // 2,
            "the catalog's /DSS": pdf.index(b"/DSS ", size) + len(b"/DSS "),
            "the cross-reference table": pdf.rindex(b" 00000 n") - 1,
        }[where]
        if at is not None:
            pdf[at] = ord("7") if pdf[at] != ord("7") else ord("3")
        files[where] = out / f"{where.replace(' ', '-').replace('/', '')}.pdf"
        files[where].write_bytes(bytes(pdf))
    return files


@pytest.mark.parametrize("where", TAMPERED)
def test_a_changed_byte_in_the_long_term_revision_fails_our_verifier(
    case: Case, tampered: dict[str, Path], where: str
) -> None:
    reasons, _ = check(case.pki, tampered[where].read_bytes(), SIGNED_AT.replace(hour=11))

    assert reasons


def test_a_changed_byte_in_the_long_term_revision_fails_eu_dss(case: Case, tampered: dict[str, Path]) -> None:
    require_judges()
    verdicts = run_judge(
        "dss", ["--root", str(case.pki.keys_dir / "root-ca.pem"), "--offline", *map(str, tampered.values())]
    )

    genuine = verdicts[str(tampered["untouched"])]["signatures"][0]
    assert (genuine["indication"], genuine["format"]) == ("TOTAL_PASSED", "PAdES-BASELINE-LTA")
    for where in TAMPERED:
        verdict = verdicts[str(tampered[where])]
        signatures = verdict.get("signatures") or [{}]
        judged = signatures[0]
        timestamps = judged.get("timestamps", [])
        assert (
            "error" in verdict
            or judged.get("indication") != "TOTAL_PASSED"
            or any(t["indication"] != "PASSED" for t in timestamps)
        ), (where, verdict)


def test_a_file_signed_by_pyhanko_gets_its_revision_from_pyhanko(case: Case, unsigned: bytes) -> None:
    with time_machine.travel(SIGNED_AT, tick=True):
        signer = case.pki.signer(SignatureLevel.B_LTA)
        by_pyhanko = signer.sign_document(unsigned, defer_long_term=True, with_pyhanko=True).pdf
    ders = evidence_revision.EvidenceDer([], case.evidence.ocsp_responses, case.evidence.crls)

    assert evidence_revision.append_dss(by_pyhanko, ders) is None
    assert evidence_revision.prepare_timestamped(by_pyhanko, ders, field_name="T", contents_hex_digits=8) is None
    b_lt = asyncio.run(long_term.append_evidence(by_pyhanko, case.evidence))
    assert check(case.pki, b_lt, SIGNED_AT.replace(hour=11)) == (set(), "B-LT")
    assert b"\n/DSS " in b_lt[len(by_pyhanko) :]  # pyHanko writes a key a line


def test_a_file_with_a_store_already_gets_its_next_revision_from_pyhanko(case: Case) -> None:
    # An archive refresh appends to a B-LTA file: another shape than a fresh signature's.
    ders = evidence_revision.EvidenceDer([], (), case.evidence.crls)

    for pdf in (case.b_lt["ours"], case.b_lta["ours"]):
        assert evidence_revision.append_dss(pdf, ders) is None
    assert evidence_revision.append_dss(case.signed + b"% appended\n", ders) is None
    assert evidence_revision.append_dss(case.signed, ders) is not None


class _FirstEstimateTooSmall(TimeStamper):
    """The TSA's client, but its first size estimate is an empty token: the real token
    does not fit the room reserved by it."""

    def __init__(self, inner: TimeStamper) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._inner = inner
        self.estimates = 0

    async def async_dummy_response(self, md_algorithm: str) -> cms.ContentInfo:
        self.estimates += 1
        if self.estimates == 1:
            return cms.ContentInfo({"content_type": "data", "content": b""})
        return await self._inner.async_dummy_response(md_algorithm)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return await self._inner.async_request_tsa_response(req)


def test_a_token_larger_than_its_room_gets_the_revision_from_pyhanko(case: Case) -> None:
    inner = case.pki.profile(SignatureLevel.B_LTA).timestamper
    assert inner is not None
    stamper = _FirstEstimateTooSmall(inner)

    with time_machine.travel(SIGNED_AT + timedelta(seconds=2), tick=True):
        b_lta = _append(case.signed, case.evidence, stamper, with_pyhanko=False)

    assert stamper.estimates == 2  # ours, then pyHanko's
    assert b"\n/DSS " in b_lta[len(case.signed) :]
    assert check(case.pki, b_lta, SIGNED_AT.replace(hour=11)) == (set(), "B-LTA")
