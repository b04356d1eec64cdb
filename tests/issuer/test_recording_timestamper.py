"""A document's timestamper reports when the certificate that signed its last token
expires (recorded as the archive's expiry): found by the token's signer identifier, the
issuer's name compared by its bytes and, when those differ, by its meaning. A signature
alone on its event loop asks the TSA on its own thread; the answer is checked the same."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from issuer.sign import RecordingTimeStamper
from tests.conftest import PKI_EPOCH
from trust.bootstrap import init_pki
from trust.keys import load_pair
from trust.paths import tsa_path
from trust.responder import PkiFiles
from trust.tsa_client import HttpTimeStamper

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


class _Answering(TimeStamper):
    """A TSA that answers with one prepared response."""

    def __init__(self, response: tsp.TimeStampResp) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.response = response

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.response


_REQUEST = tsp.TimeStampReq(
    {
        "version": 1,
        "message_imprint": {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "hashed_message": hashlib.sha256(b"a document").digest(),
        },
        "cert_req": True,
    }
).dump()


def _response(keys_dir: Path) -> tsp.TimeStampResp:
    return tsp.TimeStampResp.load(PkiFiles(now=lambda: NOW).timestamp(keys_dir, _REQUEST))


def _expiry(response: tsp.TimeStampResp) -> datetime | None:
    recording = RecordingTimeStamper(_Answering(response))
    asyncio.run(recording.async_request_tsa_response(tsp.TimeStampReq.load(_REQUEST)))
    return recording.certificate_expiry()


def _with_issuer(response: tsp.TimeStampResp, issuer: asn1_x509.Name) -> tsp.TimeStampResp:
    changed = tsp.TimeStampResp.load(response.dump())
    changed["time_stamp_token"]["content"]["signer_infos"][0]["sid"].chosen["issuer"] = issuer
    return tsp.TimeStampResp.load(changed.dump(force=True))


def test_the_expiry_is_the_tsa_certificates(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    tsa = load_pair(tsa_path(tmp_path)).certificate

    assert _expiry(_response(tmp_path)) == tsa.not_valid_after_utc


def test_an_issuer_encoded_otherwise_is_the_same_name(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    response = _response(tmp_path)
    issuer = response["time_stamp_token"]["content"]["signer_infos"][0]["sid"].chosen["issuer"]
    printable = asn1_x509.Name.build(issuer.native, use_printable=True)
    assert printable.dump() != issuer.dump()  # so the comparison by meaning is what matches

    assert _expiry(_with_issuer(response, printable)) == _expiry(response) is not None


def test_a_token_naming_another_issuer_has_no_expiry(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    other = asn1_x509.Name.build({"common_name": "Someone Else's CA", "country_name": "IN"})

    assert _expiry(_with_issuer(_response(tmp_path), other)) is None


class _LocalTsa(HttpTimeStamper):
    """The HTTP client with the development TSA answering in process; notes the thread
    each request was posted from. ``answer_other``: answer a request for another digest."""

    def __init__(self, keys_dir: Path, *, answer_other: bool = False) -> None:
        super().__init__("http://tsa.invalid/tsa")
        self.keys_dir = keys_dir
        self.answer_other = answer_other
        self.posted_from: list[int] = []

    def _post(self, body: bytes) -> bytes:
        self.posted_from.append(threading.get_ident())
        if self.answer_other:
            body = _REQUEST
        return PkiFiles(now=lambda: NOW).timestamp(self.keys_dir, body)


def _timestamp(stamper: TimeStamper) -> None:
    asyncio.run(stamper.async_timestamp(hashlib.sha256(b"another document").digest(), "sha256"))


def test_a_signature_asks_the_tsa_on_its_own_thread(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    tsa = _LocalTsa(tmp_path)
    recording = RecordingTimeStamper(tsa, on_this_thread=True)

    _timestamp(recording)

    assert tsa.posted_from == [threading.get_ident()]
    assert len(recording.responses) == 1
    assert recording.certificate_expiry() == load_pair(tsa_path(tmp_path)).certificate.not_valid_after_utc


def test_by_default_the_tsa_is_asked_from_a_worker_thread(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    tsa = _LocalTsa(tmp_path)

    _timestamp(RecordingTimeStamper(tsa))

    assert len(tsa.posted_from) == 1
    assert tsa.posted_from != [threading.get_ident()]


@pytest.mark.parametrize("on_this_thread", [True, False])
def test_an_answer_to_another_request_is_refused_either_way(tmp_path: Path, on_this_thread: bool) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    recording = RecordingTimeStamper(_LocalTsa(tmp_path, answer_other=True), on_this_thread=on_this_thread)

    with pytest.raises(TimestampRequestError):
        _timestamp(recording)
    assert recording.responses == []
