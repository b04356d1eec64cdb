"""A batch chunk's long-term revisions added together (``DepartmentSigner.complete_long_term``):
one gathering of revocation data serves every document signed before it, each file gets
its own document timestamp, and whatever cannot be had now leaves the document pending at
B-T for the job engine, exactly as the single-document path defers it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from io import BytesIO

import time_machine
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.sign import SignatureLevel, SignedDocument
from tests.issuer import test_long_term
from tests.issuer.test_long_term import SIGNED_AT, SOON_AFTER, Pki, check
from trust.local import free_port

# The PKI with its responders, and the rendered certificate, of the long-term tests.
pki = test_long_term.pki
unsigned = test_long_term.unsigned


def _signed_deferred(pki: Pki, unsigned: bytes, count: int, level: SignatureLevel) -> list[SignedDocument]:
    signer = pki.signer(level)
    with time_machine.travel(SIGNED_AT, tick=True):
        return [signer.sign_document(unsigned, defer_long_term=True) for _ in range(count)]


def _dss_objects(pdf: bytes) -> tuple[int, int, int]:
    dss = PdfFileReader(BytesIO(pdf), strict=False).root["/DSS"]
    return tuple(len(dss.get(key, [])) for key in ("/Certs", "/OCSPs", "/CRLs"))  # type: ignore[return-value]


def test_every_document_of_the_chunk_reaches_b_lta_with_its_own_document_timestamp(pki: Pki, unsigned: bytes) -> None:
    deferred = _signed_deferred(pki, unsigned, 3, SignatureLevel.B_LTA)
    assert all(d.long_term_pending and d.timestamp_token is not None for d in deferred)

    with time_machine.travel(SIGNED_AT + timedelta(seconds=1), tick=True):
        completed = pki.signer(SignatureLevel.B_LTA).complete_long_term(deferred)

    assert len(completed) == 3
    for before, after in zip(deferred, completed, strict=True):
        assert not after.long_term_pending
        assert after.level == SignatureLevel.B_LTA
        assert after.archive_expires_at is not None
        # Only appended to: what the department signed is untouched.
        assert after.pdf.startswith(before.pdf)
        assert after.signed_revision_end == before.signed_revision_end == len(before.pdf)
        reasons, level = check(pki, after.pdf, SOON_AFTER)
        assert reasons == set(), reasons
        assert level == "B-LTA"
    # One gathering: every file carries the same evidence, and its own document timestamp.
    assert len({_dss_objects(d.pdf) for d in completed}) == 1
    stamps = {d.pdf[len(before.pdf) :] for d, before in zip(completed, deferred, strict=True)}
    assert len(stamps) == 3


def test_b_lt_gets_the_evidence_without_a_document_timestamp(pki: Pki, unsigned: bytes) -> None:
    deferred = _signed_deferred(pki, unsigned, 2, SignatureLevel.B_LT)

    with time_machine.travel(SIGNED_AT + timedelta(seconds=1), tick=True):
        completed = pki.signer(SignatureLevel.B_LT).complete_long_term(deferred)

    for document in completed:
        assert (document.level, document.long_term_pending, document.archive_expires_at) == (
            SignatureLevel.B_LT,
            False,
            None,
        )
        assert check(pki, document.pdf, SOON_AFTER) == (set(), "B-LT")


def test_documents_not_pending_come_back_as_they_were_in_their_places(pki: Pki, unsigned: bytes) -> None:
    deferred = _signed_deferred(pki, unsigned, 2, SignatureLevel.B_LTA)
    finished = dataclasses.replace(deferred[0], pending_level=None, timestamp_token=None)

    with time_machine.travel(SIGNED_AT + timedelta(seconds=1), tick=True):
        completed = pki.signer(SignatureLevel.B_LTA).complete_long_term([finished, deferred[1]])

    assert completed[0] is finished
    assert completed[1].level == SignatureLevel.B_LTA
    assert not completed[1].long_term_pending


def test_evidence_that_cannot_be_had_yet_leaves_the_chunk_pending_at_b_t(pki: Pki, unsigned: bytes) -> None:
    deferred = _signed_deferred(pki, unsigned, 2, SignatureLevel.B_LTA)

    # A clock behind the timestamps: no answer newer than them can exist yet.
    with time_machine.travel(SIGNED_AT - timedelta(hours=1), tick=True):
        completed = pki.signer(SignatureLevel.B_LTA).complete_long_term(deferred)

    assert completed == deferred
    assert all(d.long_term_pending and d.level == SignatureLevel.B_T for d in completed)


def test_a_timestamp_authority_gone_leaves_the_chunk_pending(pki: Pki, unsigned: bytes) -> None:
    deferred = _signed_deferred(pki, unsigned, 2, SignatureLevel.B_LTA)
    closed = f"http://127.0.0.1:{free_port()}/pki/tsa"

    with time_machine.travel(SIGNED_AT + timedelta(seconds=1), tick=True):
        completed = pki.signer(SignatureLevel.B_LTA, tsa_url=closed).complete_long_term(deferred)

    assert completed == deferred
