"""CRLs and CA certificates: the builder's extensions, and the responder's routes, which
show a revocation as soon as revocations.json changes.

(pyHanko fetching these CRLs over HTTP is covered in test_tsa.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from tests.conftest import PKI_EPOCH
from trust.bootstrap import init_pki
from trust.crl import Revocation, build_crl, parse_revocation
from trust.departments import ensure_department_key
from trust.keys import CertifiedKey, load_pair
from trust.responder import responder_app

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    init_pki(tmp_path, now=PKI_EPOCH)
    return tmp_path


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def client(keys_dir: Path, clock: Clock) -> Iterator[TestClient]:
    with TestClient(responder_app(keys_dir, now=clock)) as c:
        yield c


def ca(keys_dir: Path, name: str) -> CertifiedKey:
    return load_pair(keys_dir / name)


def fetch_crl(client: TestClient, name: str) -> x509.CertificateRevocationList:
    response = client.get(f"/pki/crl/{name}.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    return x509.load_der_x509_crl(response.content)


def write_revocations(keys_dir: Path, by_ca: dict[str, list[dict[str, str | None]]]) -> None:
    (keys_dir / "revocations.json").write_text(json.dumps(by_ca))


# --- build_crl -------------------------------------------------------------------------------


def test_built_crl_lists_revocations_with_reasons_and_verifies(keys_dir: Path) -> None:
    issuing = ca(keys_dir, "issuing-ca")
    revoked_at = NOW - timedelta(days=2)
    der = build_crl(
        issuing,
        [Revocation(0xABC, revoked_at, x509.ReasonFlags.key_compromise), Revocation(0xDEF, revoked_at)],
        this_update=NOW,
        next_update=NOW + timedelta(days=7),
        number=17,
    )
    crl = x509.load_der_x509_crl(der)

    public_key = issuing.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public_key)
    assert crl.issuer == issuing.certificate.subject
    assert (crl.last_update_utc, crl.next_update_utc) == (NOW, NOW + timedelta(days=7))
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 17
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = issuing.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest

    compromised = crl.get_revoked_certificate_by_serial_number(0xABC)
    assert compromised is not None
    assert compromised.revocation_date_utc == revoked_at
    assert (
        compromised.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    )
    plain = crl.get_revoked_certificate_by_serial_number(0xDEF)
    assert plain is not None
    assert len(plain.extensions) == 0


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"serial": "0a:bc", "revoked_at": "2026-02-01T00:00:00Z", "reason": "key_compromise"},
            Revocation(0xABC, datetime(2026, 2, 1, tzinfo=UTC), x509.ReasonFlags.key_compromise),
        ),
        (
            {"serial": "ABC", "revoked_at": "2026-02-01T05:30:00+05:30", "reason": "superseded"},
            Revocation(0xABC, datetime(2026, 2, 1, tzinfo=UTC), x509.ReasonFlags.superseded),
        ),
        (
            # RFC 5280 spelling, and a naive time taken as UTC
            {"serial": "abc", "revoked_at": "2026-02-01T00:00:00", "reason": "cessationOfOperation"},
            Revocation(0xABC, datetime(2026, 2, 1, tzinfo=UTC), x509.ReasonFlags.cessation_of_operation),
        ),
        ({"serial": "abc", "revoked_at": "2026-02-01T00:00:00Z"}, Revocation(0xABC, datetime(2026, 2, 1, tzinfo=UTC))),
    ],
)
def test_revocation_records_parse(entry: dict[str, str], expected: Revocation) -> None:
    assert parse_revocation(entry) == expected


@pytest.mark.parametrize(
    "entry",
    [
        {"serial": "xyz", "revoked_at": "2026-02-01T00:00:00Z"},
        {"serial": "abc", "revoked_at": "yesterday"},
        {"serial": "abc", "revoked_at": "2026-02-01T00:00:00Z", "reason": "lost_it"},
        {"revoked_at": "2026-02-01T00:00:00Z"},
    ],
)
def test_malformed_revocation_records_raise_value_error(entry: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="revocation"):
        parse_revocation(entry)


# --- the routes -------------------------------------------------------------------------------


def test_crl_shows_a_revocation_at_once(client: TestClient, keys_dir: Path) -> None:
    assert list(fetch_crl(client, "issuing-ca")) == []

    ensure_department_key(keys_dir, "REV", "Department of Revenue", now=PKI_EPOCH)
    certificate = x509.load_pem_x509_certificate(next(keys_dir.glob("departments/REV/*/signing.pem")).read_bytes())
    revoked_at = NOW - timedelta(hours=3)
    write_revocations(
        keys_dir,
        {
            "issuing-ca": [
                {"serial": format(certificate.serial_number, "x"), "revoked_at": revoked_at.isoformat(), "reason": None}
            ]
        },
    )

    # Same clock reading, well inside the cache window: the changed file still shows.
    crl = fetch_crl(client, "issuing-ca")
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == revoked_at
    issuing = ca(keys_dir, "issuing-ca")
    public_key = issuing.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public_key)
    assert crl.issuer == issuing.certificate.subject
    assert crl.last_update_utc == NOW
    assert crl.next_update_utc == NOW + timedelta(days=7)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == int(NOW.timestamp())


def test_root_crl_is_signed_by_the_root_and_lists_only_its_revocations(client: TestClient, keys_dir: Path) -> None:
    issuing = ca(keys_dir, "issuing-ca").certificate
    write_revocations(
        keys_dir,
        {
            "root-ca": [
                {"serial": format(issuing.serial_number, "x"), "revoked_at": NOW.isoformat(), "reason": "ca_compromise"}
            ],
            "issuing-ca": [{"serial": "1234", "revoked_at": NOW.isoformat(), "reason": None}],
        },
    )
    crl = fetch_crl(client, "root-ca")
    root = ca(keys_dir, "root-ca").certificate
    public_key = root.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public_key)
    assert crl.issuer == root.subject
    assert [r.serial_number for r in crl] == [issuing.serial_number]
    (revoked,) = crl
    assert revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.ca_compromise


def test_crl_is_issued_fresh_in_every_second(client: TestClient, clock: Clock) -> None:
    # Long-term evidence needs a CRL issued after the signature's timestamp: the
    # development CA issues one on request, reusing it only within the same second.
    first = client.get("/pki/crl/issuing-ca.crl").content
    clock.moment = NOW + timedelta(milliseconds=900)
    assert client.get("/pki/crl/issuing-ca.crl").content == first
    clock.moment = NOW + timedelta(seconds=1)
    renewed = fetch_crl(client, "issuing-ca")
    assert renewed.last_update_utc == clock.moment
    assert renewed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == int(clock.moment.timestamp())


def test_malformed_revocations_file_is_a_server_error(client: TestClient, keys_dir: Path) -> None:
    (keys_dir / "revocations.json").write_text("{not json")
    response = client.get("/pki/crl/issuing-ca.crl")
    assert response.status_code == 500
    assert "revocations.json" in response.json()["detail"]

    write_revocations(keys_dir, {"issuing-ca": [{"serial": "zz", "revoked_at": NOW.isoformat()}]})
    assert client.get("/pki/crl/issuing-ca.crl").status_code == 500


@pytest.mark.parametrize("name", ["root-ca", "issuing-ca"])
def test_ca_certificates_are_served_as_der(client: TestClient, keys_dir: Path, name: str) -> None:
    response = client.get(f"/pki/ca/{name}.cer")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-cert"
    expected = ca(keys_dir, name).certificate.public_bytes(serialization.Encoding.DER)
    assert response.content == expected


def test_missing_pki_is_service_unavailable(tmp_path: Path) -> None:
    with TestClient(responder_app(tmp_path / "nowhere", now=lambda: NOW)) as client:
        for path in ("/pki/crl/issuing-ca.crl", "/pki/ca/root-ca.cer"):
            assert client.get(path).status_code == 503
        response = client.post("/pki/tsa", content=b"x", headers={"Content-Type": "application/timestamp-query"})
        assert response.status_code == 503
