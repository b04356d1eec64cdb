"""A document's timestamper reports when the certificate that signed its last token
expires (recorded as the archive's expiry): found by the token's signer identifier, the
issuer's name compared by its bytes and, when those differ, by its meaning."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import TimeStamper

from issuer.sign import RecordingTimeStamper
from tests.conftest import PKI_EPOCH
from trust.bootstrap import init_pki
from trust.keys import load_pair
from trust.paths import tsa_path
from trust.responder import PkiFiles

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
