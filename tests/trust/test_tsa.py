"""The RFC 3161 TSA: its tokens verify with OpenSSL and with pyHanko over real HTTP, and
every request it cannot honour gets a rejection with the right failure bit.

Time is pinned: the PKI is born on PKI_EPOCH and the TSA's clock reads NOW, so nothing
depends on the day the tests run.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
import uvicorn
from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from tests.conftest import PKI_EPOCH, require_tool
from trust.bootstrap import init_pki
from trust.departments import department_key_path, ensure_department_key
from trust.keys import load_pair
from trust.paths import tsa_path
from trust.responder import PkiFiles, responder_app
from trust.tsa import DEFAULT_POLICY, TimeStampResponse, timestamp_response
from trust.tsa_client import HttpTimeStamper
from trust.tsa_keys import rotate_tsa_key

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
VALIDATED_AT = NOW + timedelta(hours=1)
DIGEST = hashlib.sha256(b"the document").digest()


# --- a PKI and its responder on a real port ---------------------------------------------


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    # Bound before the PKI exists: certificates name the responder's URL, port included.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, listener: socket.socket) -> Path:
    keys_dir = tmp_path_factory.mktemp("tsa-pki")
    port = listener.getsockname()[1]
    init_pki(keys_dir, now=PKI_EPOCH, base_url=f"http://127.0.0.1:{port}/pki")
    return keys_dir


@pytest.fixture(scope="module")
def base_url(pki: Path, listener: socket.socket) -> Iterator[str]:
    config = uvicorn.Config(responder_app(pki, now=lambda: NOW), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the responder died on start-up"
        assert time.monotonic() < deadline, "the responder did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/pki"
    server.should_exit = True
    thread.join(timeout=10)


def post(url: str, body: bytes, content_type: str = "application/timestamp-query") -> tuple[int, str, bytes]:
    request = urllib.request.Request(  # noqa: S310 (our own http:// URL)
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers.get_content_type(), e.read()


# --- requests and responses --------------------------------------------------------------


def ts_request(
    digest: bytes = DIGEST,
    algorithm: str = "sha256",
    *,
    nonce: int | None = 0x1234_5678_9ABC_DEF0,
    cert_req: bool = True,
    **fields: Any,
) -> bytes:
    request: dict[str, Any] = {
        "version": 1,
        "message_imprint": {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
            "hashed_message": digest,
        },
        "cert_req": cert_req,
        **fields,
    }
    if nonce is not None:
        request["nonce"] = nonce
    der: bytes = tsp.TimeStampReq(request).dump()
    return der


def respond_der(keys_dir: Path, request_der: bytes, serial: int = 4242, now: datetime = NOW) -> bytes:
    tsa = load_pair(tsa_path(keys_dir))
    chain = [x509.load_pem_x509_certificate((keys_dir / "issuing-ca.pem").read_bytes())]
    return timestamp_response(request_der, tsa, chain, now=now, serial=serial)


def respond(keys_dir: Path, request_der: bytes, serial: int = 4242) -> Any:
    return TimeStampResponse.load(respond_der(keys_dir, request_der, serial))


def tst_info(response: Any) -> Any:
    return response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed


# --- granted tokens -------------------------------------------------------------------------


def test_token_from_the_http_tsa_verifies_with_openssl(pki: Path, base_url: str, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    data = tmp_path / "document.pdf"
    data.write_bytes(b"%PDF-1.7 the document")
    query, reply, bundle = tmp_path / "query.tsq", tmp_path / "reply.tsr", tmp_path / "cas.pem"
    bundle.write_bytes((pki / "root-ca.pem").read_bytes() + (pki / "issuing-ca.pem").read_bytes())
    # OpenSSL writes the query: a client we did not write, with its own random nonce.
    subprocess.run([openssl, "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query], check=True)

    status, content_type, body = post(f"{base_url}/tsa", query.read_bytes())
    assert (status, content_type) == (200, "application/timestamp-reply")
    reply.write_bytes(body)

    at = str(int(VALIDATED_AT.timestamp()))
    against_data = ["-data", str(data)]
    against_query = ["-queryfile", str(query)]  # also checks the nonce and imprint were echoed
    for against in (against_data, against_query):
        result = subprocess.run(
            [openssl, "ts", "-verify", "-in", reply, *against, "-CAfile", bundle, "-attime", at],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Verification: OK" in result.stdout

    requested = tsp.TimeStampReq.load(query.read_bytes())
    info = tst_info(TimeStampResponse.load(body))
    assert info["nonce"].native == requested["nonce"].native is not None
    assert info["gen_time"].native == NOW
    assert info["policy"].dotted == DEFAULT_POLICY
    assert info["accuracy"]["seconds"].native == 1


def test_granted_token_contents(pki: Path) -> None:
    response = respond(pki, ts_request(algorithm="sha256", nonce=77), serial=99)
    assert response["status"]["status"].native == "granted"
    signed_data = response["time_stamp_token"]["content"]
    info = tst_info(response)
    assert info["serial_number"].native == 99
    assert info["nonce"].native == 77
    assert info["message_imprint"]["hashed_message"].native == DIGEST
    assert info["ordering"].native is False
    tsa_cert = load_pair(tsa_path(pki)).certificate
    assert info["tsa"].chosen.native == asn1_x509.Name.load(tsa_cert.subject.public_bytes()).native

    (signer,) = signed_data["signer_infos"]
    attributes = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    assert set(attributes) == {"content_type", "message_digest", "signing_time", "signing_certificate_v2"}
    (cert_id,) = attributes["signing_certificate_v2"]["certs"]
    assert cert_id["cert_hash"].native == hashlib.sha256(tsa_cert.public_bytes(serialization.Encoding.DER)).digest()
    assert signer["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    subjects = {c.chosen.subject.native["common_name"] for c in signed_data["certificates"]}
    assert subjects == {"Sanad Development Time-Stamping Authority", "Sanad Development Issuing CA"}


@pytest.mark.parametrize(
    ("nonce", "cert_req", "serial"),
    [(None, False, 1), (77, True, 4242), (2**64 + 5, True, 2**63 - 1), (2**63, False, 2**62)],
)
def test_tokens_are_der_and_their_signature_covers_the_tst_info(
    pki: Path, nonce: int | None, cert_req: bool, serial: int
) -> None:
    """The token is assembled from pre-encoded parts: it must be exactly the DER that a
    full re-encoding gives, and its signature must verify over the signed attributes."""
    der = respond_der(pki, ts_request(nonce=nonce, cert_req=cert_req), serial)
    response = TimeStampResponse.load(der)
    assert response.dump(force=True) == der
    info = tst_info(response)
    assert (info["serial_number"].native, info["nonce"].native) == (serial, nonce)
    assert info["gen_time"].native == NOW
    (signer,) = response["time_stamp_token"]["content"]["signer_infos"]
    digest = next(a["values"][0].native for a in signer["signed_attrs"] if a["type"].native == "message_digest")
    tst_der = response["time_stamp_token"]["content"]["encap_content_info"]["content"].contents
    assert digest == hashlib.sha256(tst_der).digest()
    signed = signer["signed_attrs"].untag().dump(force=True)
    public_key = load_pair(tsa_path(pki)).certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signer["signature"].native, signed, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public_key.verify(signer["signature"].native, signed.replace(digest, bytes(32)), ec.ECDSA(hashes.SHA256()))


def test_signing_time_after_2049_is_a_generalized_time(pki: Path) -> None:
    """CMS keeps UTCTime through 2049 and GeneralizedTime after (RFC 5652 §11.3)."""
    later = NOW.replace(year=2050)
    response = TimeStampResponse.load(respond_der(pki, ts_request(), now=later))
    (signer,) = response["time_stamp_token"]["content"]["signer_infos"]
    (signing_time,) = (a["values"][0] for a in signer["signed_attrs"] if a["type"].native == "signing_time")
    assert signing_time.name == "generalized_time"
    assert signing_time.native == later
    assert tst_info(response)["gen_time"].native == later


def test_certificates_only_on_request_and_nonce_only_if_sent(pki: Path) -> None:
    response = respond(pki, ts_request(cert_req=False, nonce=None))
    assert response["status"]["status"].native == "granted"
    assert response["time_stamp_token"]["content"]["certificates"].native is None
    assert tst_info(response)["nonce"].native is None


@pytest.mark.parametrize(("algorithm", "length"), [("sha384", 48), ("sha512", 64)])
def test_other_sha2_imprints_are_granted(pki: Path, algorithm: str, length: int) -> None:
    response = respond(pki, ts_request(bytes(length), algorithm))
    assert response["status"]["status"].native == "granted"
    assert tst_info(response)["message_imprint"]["hash_algorithm"]["algorithm"].native == algorithm


def test_our_policy_requested_explicitly_is_granted(pki: Path) -> None:
    assert respond(pki, ts_request(req_policy=DEFAULT_POLICY))["status"]["status"].native == "granted"


# --- rejections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_der", "failure"),
    [
        pytest.param(b"not a time-stamp request", "bad_data_format", id="garbage"),
        pytest.param(ts_request() + b"\x00", "bad_data_format", id="trailing-bytes"),
        pytest.param(ts_request()[:-3], "bad_data_format", id="truncated"),
        pytest.param(ts_request(hashlib.sha1(b"x").digest(), "sha1"), "bad_alg", id="sha1"),  # noqa: S324
        pytest.param(ts_request(bytes(16), "md5"), "bad_alg", id="md5"),
        pytest.param(ts_request(bytes(20)), "bad_data_format", id="short-sha256-imprint"),
        pytest.param(ts_request(bytes(64), "sha384"), "bad_data_format", id="long-sha384-imprint"),
        pytest.param(ts_request(version=2), "bad_request", id="version-2"),
        pytest.param(ts_request(req_policy="1.2.3.4"), "unaccepted_policy", id="foreign-policy"),
        pytest.param(
            ts_request(extensions=[{"extn_id": "1.2.3.4.5", "critical": True, "extn_value": b"\x05\x00"}]),
            "unaccepted_extensions",
            id="extension",
        ),
    ],
)
def test_bad_requests_are_rejected_with_the_right_failure(pki: Path, request_der: bytes, failure: str) -> None:
    status = respond(pki, request_der)["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {failure}
    assert status["status_string"].native[0]


# --- the HTTP route -----------------------------------------------------------------------------


def test_other_content_types_are_refused(base_url: str) -> None:
    status, _, body = post(f"{base_url}/tsa", ts_request(), content_type="application/octet-stream")
    assert status == 415
    assert "application/timestamp-query" in json.loads(body)["detail"]


def test_oversized_bodies_are_refused(base_url: str) -> None:
    assert post(f"{base_url}/tsa", bytes(64 * 1024 + 1))[0] == 413
    # Chunked: no Content-Length to refuse early; the limit applies while reading.
    request = urllib.request.Request(  # noqa: S310 (our own http:// URL)
        f"{base_url}/tsa",
        data=iter([bytes(32 * 1024)] * 3),
        method="POST",
        headers={"Content-Type": "application/timestamp-query", "Transfer-Encoding": "chunked"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    with refused.value as e:
        assert e.code == 413


def test_rejection_reaches_the_client_as_a_timestamp_error(base_url: str) -> None:
    import asyncio

    stamper = HttpTimeStamper(f"{base_url}/tsa")
    with pytest.raises(TimestampRequestError, match="bad_alg"):
        asyncio.run(stamper.async_timestamp(bytes(20), "sha1"))


def test_client_reports_http_and_network_failures(base_url: str) -> None:
    import asyncio

    with pytest.raises(TimestampRequestError, match="HTTP 404"):
        asyncio.run(HttpTimeStamper(f"{base_url}/nowhere").async_timestamp(DIGEST, "sha256"))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    with pytest.raises(TimestampRequestError, match="could not reach"):
        asyncio.run(HttpTimeStamper(f"http://127.0.0.1:{closed_port}/tsa", timeout=2).async_timestamp(DIGEST, "sha256"))


def test_rotated_tsa_key_is_used_without_restart(tmp_path: Path) -> None:
    init_pki(tmp_path, now=PKI_EPOCH)
    files = PkiFiles(now=lambda: NOW)

    def signer_serial() -> int:
        response = TimeStampResponse.load(files.timestamp(tmp_path, ts_request()))
        (signer,) = response["time_stamp_token"]["content"]["signer_infos"]
        serial: int = signer["sid"].chosen["serial_number"].native
        return serial

    before = signer_serial()
    assert before == load_pair(tsa_path(tmp_path)).certificate.serial_number
    rotated = rotate_tsa_key(tmp_path, now=NOW)
    assert signer_serial() == rotated.certificate.serial_number != before


# --- pyHanko: a PAdES signature timestamped over HTTP ------------------------------------------


def _blank_pdf() -> bytes:
    writer = PdfFileWriter()
    writer.insert_page(PageObject(writer.add_object(generic.StreamObject(stream_data=b"")), [0, 0, 595, 842]))
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.fixture(scope="module")
def timestamped_pdf(pki: Path, base_url: str) -> bytes:
    ensure_department_key(pki, "REV", "Department of Revenue", now=PKI_EPOCH)
    key = department_key_path(pki, "REV")
    signer = signers.SimpleSigner.load(
        str(key.with_suffix(".key")), str(key.with_suffix(".pem")), ca_chain_files=(str(pki / "issuing-ca.pem"),)
    )
    metadata = signers.PdfSignatureMetadata(field_name="Signature", subfilter=SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=HttpTimeStamper(f"{base_url}/tsa"))
    output = BytesIO()
    with time_machine.travel(NOW, tick=False):
        pdf_signer.sign_pdf(IncrementalPdfFileWriter(BytesIO(_blank_pdf())), output=output)
    return output.getvalue()


def validate(pdf: bytes, pki: Path) -> PdfSignatureStatus:
    root = x509.load_pem_x509_certificate((pki / "root-ca.pem").read_bytes())
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))],
        # Intermediates and CRLs come from the responder (caIssuers, CRL distribution points),
        # and a CRL that cannot be fetched fails validation.
        allow_fetching=True,
        revocation_mode="hard-fail",
        moment=VALIDATED_AT,
    )
    (signature,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    status: PdfSignatureStatus = validate_pdf_signature(signature, context)
    return status


def test_pyhanko_timestamps_over_http_and_trusts_the_token(timestamped_pdf: bytes, pki: Path) -> None:
    status = validate(timestamped_pdf, pki)

    assert status.bottom_line, status.pretty_print_details()
    timestamp = status.timestamp_validity
    assert timestamp is not None
    assert timestamp.intact
    assert timestamp.valid
    assert timestamp.trusted
    assert timestamp.timestamp == NOW
    assert timestamp.signing_cert.subject.native["common_name"] == "Sanad Development Time-Stamping Authority"


@pytest.fixture
def tsa_revoked(pki: Path) -> Iterator[None]:
    serial = load_pair(tsa_path(pki)).certificate.serial_number
    entry = {"serial": format(serial, "x"), "revoked_at": (PKI_EPOCH + timedelta(days=1)).isoformat(), "reason": None}
    path = pki / "revocations.json"
    path.write_text(json.dumps({"issuing-ca": [entry], "root-ca": []}))
    yield
    path.unlink()


@pytest.mark.usefixtures("tsa_revoked")
def test_pyhanko_distrusts_a_token_from_a_revoked_tsa(timestamped_pdf: bytes, pki: Path) -> None:
    # pyHanko learns of the revocation only from the responder's CRL.
    timestamp = validate(timestamped_pdf, pki).timestamp_validity
    assert timestamp is not None
    assert timestamp.intact
    assert timestamp.valid
    assert not timestamp.trusted
    assert timestamp.trust_problem_indic == AdESIndeterminate.REVOKED_NO_POE
