"""Long-term evidence produced after the signature timestamp (issuer/long_term.py): what a
B-LT file may append after its signature, what level a file is reported at, and what
happens when fresh revocation data cannot be had while issuing (the document stays at
B-T, recorded as pending, and the archive job raises it later)."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer import long_term, service
from issuer.render import CertificateRenderer
from issuer.schemas import DocumentCreate
from issuer.sign import DepartmentSigner, SignatureLevel, SignerRegistry, SigningProfile
from issuer.templates import TemplateSpec
from tests.conftest import (
    Backend,
    IssuingDepartment,
    create_department,
    income_certificate,
    render_income_certificate,
)
from tests.issuer.test_long_term import SIGNED_AT, Pki, check, pki, sign, unsigned  # noqa: F401 (fixtures)
from tests.verifier.test_api import issue, upload
from trust.bootstrap import init_pki
from trust.ca import trust_anchors_pem
from trust.departments import ensure_department_key
from trust.keys import load_certificate
from trust.local import free_port, serve_responder
from trust.revocation import CrlFetcher, OcspFetcher
from trust.tsa_client import HttpTimeStamper
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import Reason

NOW = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)


def _long_term(pki: Pki, unsigned: bytes) -> bytes:  # noqa: F811 (the fixture's value)
    return sign(pki, unsigned, SignatureLevel.B_LT)


# --- what a B-LT file may append after its signature ------------------------------------


def test_b_lt_is_the_signature_plus_one_revision_that_only_adds_a_dss(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    pdf = _long_term(pki, unsigned)

    reasons, level = check(pki, pdf, NOW)

    assert (reasons, level) == (set(), "B-LT")
    dss = DocumentSecurityStore.read_dss(_reader(pdf))
    assert dss.crls or dss.ocsps  # the answers for the signer's and the TSA's chains


def test_an_info_update_after_the_dss_revision_fails(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    writer = IncrementalPdfFileWriter(BytesIO(_long_term(pki, unsigned)))
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("Forged")}))

    assert Reason.NOT_ENTIRE_FILE in check(pki, _written(writer), NOW)[0]


def test_a_dss_revision_that_also_rewrites_the_metadata_fails(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    # pyHanko's own writer stamps /ModDate on every revision: only a revision that adds a
    # DSS and nothing else may stand outside the signed range.
    timestamped = sign(pki, unsigned, SignatureLevel.B_T)
    writer = IncrementalPdfFileWriter(BytesIO(timestamped))
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=[], embed_roots=False)

    assert Reason.NOT_ENTIRE_FILE in check(pki, _written(writer), NOW)[0]


def test_changed_page_content_after_the_dss_revision_fails(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    writer = IncrementalPdfFileWriter(BytesIO(_long_term(pki, unsigned)))
    forged = generic.StreamObject(stream_data=b"BT /F1 36 Tf 72 400 Td (Annual income: Rs 9,99,999) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(forged))

    reasons, _ = check(pki, _written(writer), NOW)

    assert {Reason.NOT_ENTIRE_FILE, Reason.MODIFIED_AFTER_SIGNING} <= reasons


def test_trailing_bytes_after_the_dss_revision_fail(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    assert Reason.NOT_ENTIRE_FILE in check(pki, _long_term(pki, unsigned) + b"\n% appended\n", NOW)[0]


# --- the level a file is reported at ----------------------------------------------------


def test_revocation_data_older_than_the_timestamp_is_b_t_not_b_lt(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    # What Sanad wrote before: the answers fetched before signing, so older than the
    # signature timestamp. EU DSS calls that PAdES-BASELINE-T, and so must we.
    signer = DepartmentSigner.load(pki.keys_dir, "REV", pki.profile(SignatureLevel.B_T))
    sources = pki.profile(SignatureLevel.B_LT).revocation_sources()
    signer_chain = [signer.certificate, *sources.intermediates]
    with time_machine.travel(SIGNED_AT, tick=False):
        early = OcspFetcher().responses_for(signer_chain, [*sources.intermediates, *sources.trust_roots])
    timestamped = sign(pki, unsigned, SignatureLevel.B_T, at=SIGNED_AT + timedelta(seconds=5))
    tsa = [load_certificate(path) for path in (pki.keys_dir / "tsa").glob("*.pem")]
    stale = _append(timestamped, long_term.Evidence((*signer_chain, *tsa), tuple(early), ()))

    reasons, level = check(pki, stale, NOW)

    assert reasons == set()  # a valid B-T signature, with extra data that proves nothing
    assert level == "B-T"


def test_gathering_waits_for_the_second_after_the_timestamp() -> None:
    needs = long_term.EvidenceNeeds((), datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))
    slept: list[float] = []
    sources = long_term.RevocationSources(None, CrlFetcher(), (), ())

    long_term.gather(needs, sources, now=lambda: needs.timestamp_time + timedelta(milliseconds=300), sleep=slept.append)

    assert slept == [pytest.approx(0.7)]


def test_answers_shared_by_documents_are_checked_once(pki: Pki, unsigned: bytes) -> None:  # noqa: F811
    timestamped = sign(pki, unsigned, SignatureLevel.B_T)
    sources = pki.profile(SignatureLevel.B_LT).revocation_sources()
    needs = long_term.needs_of_pdf(timestamped, sources)

    with time_machine.travel(needs.timestamp_time + timedelta(seconds=1), tick=True):
        first = long_term.gather(needs, sources, sleep=_no_sleep)
        checked = long_term._read_crl_answer.cache_info()
        again = long_term.gather(needs, sources, sleep=_no_sleep)

    # The same CRLs serve the next document: their signatures are not checked again.
    assert again == first
    after = long_term._read_crl_answer.cache_info()
    assert after.misses == checked.misses
    assert after.hits == checked.hits + len(needs.certificates)


def test_a_timestamp_ahead_of_our_clock_is_not_waited_for() -> None:
    needs = long_term.EvidenceNeeds((), datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))
    sources = long_term.RevocationSources(None, CrlFetcher(), (), ())

    with pytest.raises(long_term.LongTermUnavailable, match="ahead of this clock"):
        long_term.gather(needs, sources, now=lambda: needs.timestamp_time - timedelta(minutes=5), sleep=_no_sleep)


def test_the_level_is_recorded_and_shown_on_the_qr_page(client: TestClient, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)

    page = client.get(f"/v/{record['id']}", headers={"Accept": "application/json"}).json()
    html = client.get(f"/v/{record['id']}").text

    assert record["signature_level"] == "B-LTA"
    assert page["document"]["signature_level"] == "B-LTA"
    assert "PAdES B-LTA" in html
    assert upload(client, pdf)["level"] == "B-LTA"


# --- when fresh revocation data cannot be had while issuing ------------------------------


@pytest.fixture
def split_pki(tmp_path: Path) -> Iterator[tuple[Path, str, int]]:
    """A PKI whose certificates name revocation services on a port where nothing listens
    (an outage), while its TSA answers on another port. Yields the keys directory, the
    TSA's URL and the silent port."""
    keys, silent, tsa_port = tmp_path / "pki", free_port(), free_port()
    init_pki(keys, base_url=f"http://127.0.0.1:{silent}/pki")
    with serve_responder(keys, tsa_port) as tsa_base:
        yield keys, f"{tsa_base}/tsa", silent


def _profile(keys: Path, tsa_url: str) -> SigningProfile:
    return SigningProfile(
        SignatureLevel.B_LTA,
        timestamper=HttpTimeStamper(tsa_url),
        crls=CrlFetcher(ttl=60, timeout=1),
        ocsp=OcspFetcher(ttl=60, timeout=1),
        trust_roots=(load_certificate(keys / "root-ca.pem"),),
        intermediates=(load_certificate(keys / "issuing-ca.pem"),),
    )


def test_without_fresh_revocation_data_a_document_stays_pending_until_the_archive_job_raises_it(
    backend: Backend, split_pki: tuple[Path, str, int]
) -> None:
    keys, tsa_url, silent = split_pki
    department = create_department(backend).department
    ensure_department_key(keys, department.code, department.name_en)
    kit = dataclasses.replace(backend.context.kit, signers=SignerRegistry(keys, _profile(keys, tsa_url)))
    anchors = trust_anchors_pem(keys)
    request = DocumentCreate.model_validate(income_certificate(f"CIT-{secrets.token_hex(4)}"))

    with backend.context.sessions() as session:
        document, _ = service.issue_document(session, kit, department, request)
        pending = backend.store.get(document.storage_key)
        recorded = (document.id, document.signature_level, document.long_term_pending, document.archive_expires_at)

    # Recorded at the level asked for, its long-term revision pending (the file is B-T).
    assert recorded[1:] == ("B-LTA", True, None)

    # Still down at the next run: it waits, untouched.
    with backend.context.sessions() as session:
        outcome = service.refresh_archives(
            session, kit, now=datetime.now(UTC), within=timedelta(days=90), document_ids=[recorded[0]]
        )
    assert recorded[0] in outcome.waiting
    assert (outcome.raised, outcome.failed) == ([], {})

    with serve_responder(keys, silent):
        # Valid, and reported for what it is: B-T, never B-LT.
        before = check_signature(pending, TrustAnchors.from_pem(anchors, CrlFetcher(ttl=0)))
        with backend.context.sessions() as session:
            outcome = service.refresh_archives(
                session, kit, now=datetime.now(UTC), within=timedelta(days=90), document_ids=[recorded[0]]
            )
            raised = session.get(type(document), recorded[0])
            assert raised is not None
            final = backend.store.get(raised.storage_key)
            facts = (
                raised.signature_level,
                raised.long_term_pending,
                raised.archive_expires_at is not None,
                raised.signed_sha256,
            )
    # The document's own evidence alone now carries it.
    after = check_signature(final, TrustAnchors.from_pem(anchors))

    assert before.passed, before.findings
    assert before.level == "B-T"
    assert (outcome.raised, outcome.failed) == ([recorded[0]], {})
    assert facts == ("B-LTA", False, True, document.signed_sha256)
    assert final.startswith(pending)  # an incremental update: nothing signed is rewritten
    assert after.passed, after.findings
    assert after.level == "B-LTA"


def test_answers_not_newer_than_the_timestamp_leave_the_document_at_b_t(
    split_pki: tuple[Path, str, int],
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
) -> None:
    # A responder that serves answers produced earlier (pre-produced OCSP, a CRL
    # published on a schedule): nothing proves the status after the timestamp.
    keys, tsa_url, silent = split_pki
    ensure_department_key(keys, "REV", "Department of Revenue")
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    signer = DepartmentSigner.load(keys, "REV", _profile(keys, tsa_url))
    certificate = render_income_certificate(
        renderer, templates, document_id="st7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=datetime.now(UTC)
    )
    with serve_responder(keys, silent, now=lambda: a_minute_ago):
        signed = signer.sign_document(certificate)

    assert signed.level == SignatureLevel.B_T
    assert signed.archive_expires_at is None


# --- helpers ---------------------------------------------------------------------------


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(pdf), strict=False)


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _append(pdf: bytes, evidence: long_term.Evidence) -> bytes:
    return asyncio.run(long_term.append_evidence(pdf, evidence))


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"should not wait ({seconds} s)")
