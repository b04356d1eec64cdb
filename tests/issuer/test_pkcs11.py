"""Department keys inside a PKCS#11 token: SoftHSM2 with tokens in a temporary directory.

Skipped when SoftHSM2 is not installed, unless ``SANAD_REQUIRE_SERVICES=1`` (``make
test``, CI), where its absence fails the run. Time is pinned as in the verifier tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pkcs11
import pytest
import time_machine
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pkcs11 import Attribute, ObjectClass
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from issuer.pkcs11 import TokenError, TokenKeys, default_module_path, enroll, register
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.sign import DepartmentSigner, to_asn1
from issuer.templates import TemplateSpec
from sanad.i18n import LocalizedText
from tests.conftest import PKI_EPOCH, render_income_certificate
from trust.bootstrap import init_pki
from trust.departments import Generation, certify_department_key, current_generation
from trust.keys import load_certificate

SIGNED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
CHECKED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PIN = "1234-test-pin"
SO_PIN = "5678-test-so-pin"
TOKEN = "sanad-test"
FRESH_TOKEN = "sanad-test-fresh"  # never logged into: the token itself judges the PIN


@dataclass(frozen=True)
class SoftHsm:
    module: str
    token: str


def _init_token(label: str) -> None:
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    module = default_module_path()
    if module is None or shutil.which("softhsm2-util") is None:
        reason = "SoftHSM2 is not installed (apt-get install softhsm2, or scripts/setup.sh)"
        if os.environ.get("SANAD_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as patch:
        # SoftHSM2 reads its configuration when the module is first initialised in this
        # process, so every token is made before that.
        patch.setenv("SOFTHSM2_CONF", str(config))
        _init_token(TOKEN)
        _init_token(FRESH_TOKEN)
        yield SoftHsm(module, TOKEN)


@pytest.fixture(scope="module")
def token_keys(softhsm: SoftHsm) -> Iterator[TokenKeys]:
    keys = TokenKeys(softhsm.module, PIN)
    yield keys
    keys.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pkcs11-pki")
    init_pki(path, now=PKI_EPOCH)
    return path


@pytest.fixture(scope="module")
def generation(pki: Path, softhsm: SoftHsm) -> Generation:
    name = "Department of Tokens"
    return enroll(pki, "HSM", name, module_path=softhsm.module, pin=PIN, token_label=softhsm.token, now=PKI_EPOCH)


@pytest.fixture(scope="module")
def signer(pki: Path, generation: Generation, token_keys: TokenKeys) -> DepartmentSigner:
    return DepartmentSigner.from_generation(pki, generation, token_signer=token_keys.signer)


@pytest.fixture(scope="module")
def unsigned(renderer: CertificateRenderer, templates: dict[str, TemplateSpec]) -> bytes:
    return render_income_certificate(
        renderer,
        templates,
        document_id="h5m9k2q7x3v8n4c6b1w0r5t3ya",
        issued_at=SIGNED_AT,
        issuer=IssuerInfo(code="HSM", name=LocalizedText(en="Department of Tokens", pa="ਟੋਕਨ", hi="टोकन")),
    )


def _assert_valid(pdf: bytes, pki: Path, generation: Generation) -> None:
    """pyHanko validates the signature against the test PKI's root (B-B: no revocation data)."""
    context = ValidationContext(
        trust_roots=[to_asn1(load_certificate(pki / "root-ca.pem"))],
        other_certs=[to_asn1(load_certificate(pki / "issuing-ca.pem"))],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=CHECKED_AT,
    )
    (embedded,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    status = asyncio.run(async_validate_pdf_signature(embedded, signer_validation_context=context))
    assert status.intact
    assert status.valid
    assert status.trusted, status.trust_problem_indic
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok
    assert status.signing_cert.dump() == to_asn1(generation.certificate).dump()


def _private_key(keys: TokenKeys, generation: Generation) -> pkcs11.PrivateKey:
    config = generation.pkcs11
    assert config is not None
    session = keys.session(config["token_label"])
    with keys.lock:
        found = session.get_key(ObjectClass.PRIVATE_KEY, id=bytes.fromhex(config["key_id"]))
    assert isinstance(found, pkcs11.PrivateKey)
    return found


def test_enroll_makes_the_token_key_the_active_generation(pki: Path, generation: Generation) -> None:
    current = current_generation(pki, "HSM")
    assert current is not None
    assert current.key_id == generation.key_id
    assert current.pkcs11 is not None
    assert set(current.pkcs11) == {"token_label", "key_label", "key_id"}
    assert current.pkcs11["token_label"] == TOKEN
    assert current.pkcs11["key_label"].startswith("sanad-HSM-")
    assert not current.key_path.exists()
    department = pki / "departments" / "HSM"
    assert not list(department.rglob("*.key"))
    assert PIN not in "".join(p.read_text() for p in department.rglob("*") if p.is_file())


def test_a_pdf_signed_in_the_token_validates_against_the_pki(
    signer: DepartmentSigner, unsigned: bytes, pki: Path, generation: Generation
) -> None:
    with time_machine.travel(SIGNED_AT, tick=False):
        signed = signer.sign(unsigned)

    _assert_valid(signed, pki, generation)


def test_the_private_key_is_sensitive_and_never_extractable(token_keys: TokenKeys, generation: Generation) -> None:
    key = _private_key(token_keys, generation)
    with token_keys.lock:
        assert key[Attribute.TOKEN] is True
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.SIGN] is True
        with pytest.raises(pkcs11.AttributeSensitive):
            key[Attribute.VALUE]


@pytest.mark.parametrize("token", [FRESH_TOKEN, TOKEN], ids=["judged-by-token", "token-already-logged-in"])
def test_a_wrong_pin_is_a_clear_error(softhsm: SoftHsm, token_keys: TokenKeys, token: str) -> None:
    token_keys.session(TOKEN)  # this process is logged into TOKEN with the right PIN
    with TokenKeys(softhsm.module, "not-the-pin") as keys, pytest.raises(TokenError, match="incorrect PIN"):
        keys.session(token)


def test_unknown_token_or_key_is_a_clear_error(token_keys: TokenKeys, generation: Generation) -> None:
    config = generation.pkcs11
    assert config is not None
    certificate = to_asn1(generation.certificate)
    with pytest.raises(TokenError, match="no PKCS#11 token labelled 'nope'"):
        token_keys.signer({**config, "token_label": "nope"}, certificate, [])
    with pytest.raises(TokenError, match="private key"):
        token_keys.signer({"token_label": TOKEN, "key_id": "00ff"}, certificate, [])


def test_a_key_that_does_not_match_the_certificate_is_refused(
    pki: Path, softhsm: SoftHsm, token_keys: TokenKeys, generation: Generation
) -> None:
    other = enroll(pki, "HSM2", "Another Department", module_path=softhsm.module, pin=PIN, token_label=TOKEN)
    assert other.pkcs11 is not None
    with pytest.raises(TokenError, match="does not match its certificate"):
        token_keys.signer(other.pkcs11, to_asn1(generation.certificate), [])


def test_four_threads_sign_at_once(
    signer: DepartmentSigner, unsigned: bytes, pki: Path, generation: Generation
) -> None:
    start = threading.Barrier(4)

    def sign(_: int) -> bytes:
        start.wait()
        return signer.sign(unsigned)

    with time_machine.travel(SIGNED_AT, tick=False), ThreadPoolExecutor(4) as pool:
        documents = list(pool.map(sign, range(8)))

    assert len(set(documents)) == 8  # ECDSA: every signature differs
    for document in documents:
        _assert_valid(document, pki, generation)


def test_sign_raw_gives_a_der_ecdsa_signature_the_certificate_verifies(
    signer: DepartmentSigner, generation: Generation
) -> None:
    payload = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0"

    signature = signer.sign_raw(payload)

    r, s = decode_dss_signature(signature)  # DER, not r||s
    assert r > 0
    assert s > 0
    public_key = generation.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))


def test_cli_enrolls_a_department_key_in_the_token(
    softhsm: SoftHsm, token_keys: TokenKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import app
    from tests.shell import embedded_deployment

    embedded_deployment(tmp_path, monkeypatch)
    monkeypatch.setenv("SANAD_PKCS11_MODULE", softhsm.module)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    added = runner.invoke(
        app, ["department", "add", "CLI", "--name-en", "Cli Dept", "--name-pa", "ਕ", "--name-hi", "क"]
    )
    assert added.exit_code == 0, added.output

    no_pin = runner.invoke(app, ["keys", "enroll-pkcs11", "CLI", "--token", TOKEN])
    assert no_pin.exit_code == 2
    assert "SANAD_PKCS11_PIN" in no_pin.output

    monkeypatch.setenv("SANAD_PKCS11_PIN", "wrong-pin")
    wrong = runner.invoke(app, ["keys", "enroll-pkcs11", "CLI", "--token", TOKEN])
    assert wrong.exit_code == 1
    assert "incorrect PIN" in wrong.output

    monkeypatch.setenv("SANAD_PKCS11_PIN", PIN)
    result = runner.invoke(app, ["keys", "enroll-pkcs11", "cli", "--token", TOKEN])
    assert result.exit_code == 0, result.output
    current = current_generation(tmp_path / "keys", "CLI")
    assert current is not None
    assert current.pkcs11 is not None
    assert result.output.strip() == current.key_id


def test_an_existing_token_key_is_registered_with_its_certificate(
    pki: Path, softhsm: SoftHsm, token_keys: TokenKeys
) -> None:
    # A key generated in the token earlier, certified by the CA (here: the dev issuing CA).
    public_key = token_keys.generate_signing_key(softhsm.token, key_label="from-ca-1", key_id=b"from-ca-1")
    certificate = certify_department_key(pki, "REG", "Department of Registration", public_key, now=PKI_EPOCH)
    other = certify_department_key(
        pki, "REG", "Department of Registration", ec.generate_private_key(ec.SECP256R1()).public_key(), now=PKI_EPOCH
    )

    with pytest.raises(TokenError, match="does not match its certificate"):
        register(
            pki, "REG", other, module_path=softhsm.module, pin=PIN, token_label=softhsm.token, key_label="from-ca-1"
        )
    generation = register(
        pki, "REG", certificate, module_path=softhsm.module, pin=PIN, token_label=softhsm.token, key_label="from-ca-1"
    )

    assert current_generation(pki, "REG") == generation
    assert generation.pkcs11 == {"token_label": softhsm.token, "key_label": "from-ca-1"}
    assert not generation.key_path.exists()
