"""Department keys from outside the development PKI: what an import accepts and refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import PKI_EPOCH
from trust.bootstrap import init_pki
from trust.ca import issuing_ca
from trust.departments import (
    CertificateRejected,
    certify_department_key,
    current_generation,
    department_generations,
    import_department_key,
    rotate_department_key,
)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    init_pki(tmp_path, now=PKI_EPOCH)
    return tmp_path


def _certificate(keys: Path, key: ec.EllipticCurvePrivateKey, *, non_repudiation: bool = True) -> x509.Certificate:
    """What a CA might hand back: signed by the issuing CA, with the usage it chose."""
    ca = issuing_ca(keys)
    usage = x509.KeyUsage(True, non_repudiation, False, False, False, False, False, False, False)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Department of Imports")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=365))
        .add_extension(usage, critical=True)
        .sign(ca.private_key, hashes.SHA256())
    )


def test_an_imported_key_becomes_the_active_generation(keys: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    generation = import_department_key(keys, "IMP", _certificate(keys, key), key)

    assert current_generation(keys, "IMP") == generation
    assert generation.key_path.exists()


def test_imports_that_could_not_sign_for_sanad_are_refused(
    keys: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    foreign = tmp_path_factory.mktemp("foreign")
    init_pki(foreign, now=PKI_EPOCH)
    expired = certify_department_key(keys, "IMP", "Imports", key.public_key(), now=PKI_EPOCH - timedelta(days=4 * 365))

    with pytest.raises(CertificateRejected, match="not for this key"):
        import_department_key(keys, "IMP", _certificate(keys, other), key)
    with pytest.raises(CertificateRejected, match="issuing CA"):
        import_department_key(keys, "IMP", _certificate(foreign, key), key)
    with pytest.raises(CertificateRejected, match="not now"):
        import_department_key(keys, "IMP", expired, key)
    with pytest.raises(CertificateRejected, match="non-repudiation"):
        import_department_key(keys, "IMP", _certificate(keys, key, non_repudiation=False), key)
    assert current_generation(keys, "IMP") is None


def test_rotation_keeps_every_generation_and_moves_the_active_one(keys: Path) -> None:
    first = rotate_department_key(keys, "ROT", "Rotations", now=PKI_EPOCH)
    second = rotate_department_key(keys, "ROT", "Rotations", now=PKI_EPOCH + timedelta(days=1))

    assert [g.key_id for g in department_generations(keys, "ROT")] == [first.key_id, second.key_id]
    active = current_generation(keys, "ROT")
    assert active is not None
    assert active.key_id == second.key_id
