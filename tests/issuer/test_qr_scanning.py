"""The sealed QR code read back as a bank clerk gets it: from a 72-dpi render of the issued
PDF and from a poor phone photo of a copy, by two independent decoders (zbarimg and
zxing-cpp). The symbol is version 10 at most, error correction M or better."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter

from issuer import seal as seal_module
from issuer.qr import symbol
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.seal import SealClaims, data_hash, fit_name, make_seal, sealed_url
from issuer.templates import TemplateSpec, validate_data
from sanad.i18n import LocalizedText
from tests.conftest import Backend, IssuingDepartment, require_tool
from tests.verifier.helpers import issue, qr_text

MAX_VERSION = 10


class RepeatableSigner:
    """A fixed key signing deterministically (RFC 6979): the same seal, so the same symbol,
    on every run; whether it scans cannot change from one run to the next. (Scanning does
    not depend on whose key it is; the issued certificate's test uses the real one.)"""

    key = ec.derive_private_key(0x5A4AD_0F_5EA1, ec.SECP256R1())
    key_id = "5a4ad0f5ea100000"

    def sign_raw(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def render_page(pdf: bytes, dpi: int, tmp_path: Path) -> Path:
    pdftoppm = require_tool("pdftoppm")
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    out = tmp_path / f"page-{dpi}"
    subprocess.run(
        [pdftoppm, "-r", str(dpi), "-png", "-singlefile", str(tmp_path / "certificate.pdf"), str(out)], check=True
    )
    return out.with_suffix(".png")


def phone_photo(page: Path, angle: float, out: Path) -> Path:
    """A photo of a photocopy: held a few degrees askew, a little out of focus, and saved
    as a heavily compressed JPEG."""
    image = Image.open(page).convert("L")
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    image.save(out, "JPEG", quality=40)
    return out


def decoded(image: Path) -> tuple[str, str]:
    """What zbarimg and zxing-cpp each read from ``image`` ("" for nothing)."""
    zbarimg = require_tool("zbarimg")
    zbar = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True)
    import zxingcpp

    with Image.open(image) as opened:
        found = zxingcpp.read_barcodes(opened, formats=zxingcpp.BarcodeFormat.QRCode)
    return zbar.stdout.rstrip("\n"), found[0].text if found else ""


def assert_scans(pdf: bytes, url: str, tmp_path: Path) -> None:
    assert decoded(render_page(pdf, 72, tmp_path)) == (url, url)
    page = render_page(pdf, 150, tmp_path)  # the photo: a phone's camera resolves more than 72 dpi
    for angle in (4, -3):
        assert decoded(phone_photo(page, angle, tmp_path / f"photo{angle}.jpg")) == (url, url), angle


def test_the_issued_certificate_scans_from_72_dpi_and_a_photo(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    if backend.name != "embedded":
        pytest.skip("scanning does not depend on the backend; one run is enough")
    record, pdf = issue(client, dept)
    url = sealed_url(record["verify_url"], qr_text(pdf))
    code = symbol(url)

    assert code.version <= MAX_VERSION
    assert code.error in {"M", "Q", "H"}
    assert_scans(pdf, url, tmp_path)


def test_the_longest_sealed_url_is_version_10_and_scans(
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Worst case: the longest holder name allowed, in Gurmukhi, the largest status index,
    an expiry date and a production host of 34 characters: version 10 is exactly full."""
    spec = templates["residence-certificate"]
    data = json.loads((spec.directory / "example.json").read_text("utf-8"))["data"]
    data[spec.holder_field] = ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ " * 10)[:120].strip()
    document_id = "k7q3xz5m2vdn4ccb6wbrat5y3a"
    claims = SealClaims(
        document_id=document_id,
        type=spec.type,
        department="QRTEST",
        holder_name=data[spec.holder_field],
        issued_on=date(2026, 3, 1),
        valid_until=date(2027, 3, 1),
        status_index=2**32 - 1,
        data_hash=data_hash(b"{}"),
    )
    assert fit_name(claims.holder_name)[1]  # this one is shortened in the seal
    url = sealed_url(f"https://verify.sanad.punjab.gov.in/v/{document_id}", make_seal(RepeatableSigner(), claims))
    pdf = renderer.render(
        spec,
        document_id=document_id,
        verify_url=url,
        data=validate_data(spec, data),
        issuer=IssuerInfo(code="QRTEST", name=LocalizedText(en="Test", pa="ਟੈਸਟ", hi="परीक्षण")),
        issued_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        valid_until=date(2027, 3, 1),
        attachment=b"{}",
    )

    assert symbol(url).version == MAX_VERSION
    assert_scans(pdf, url, tmp_path)
    # The budget is what version 10 holds: one byte more of name would not fit.
    monkeypatch.setattr(seal_module, "MAX_NAME_BYTES", seal_module.MAX_NAME_BYTES + 1)
    longer = make_seal(RepeatableSigner(), replace(claims, holder_name="ਗ" * seal_module.MAX_NAME_BYTES))
    assert symbol(sealed_url(f"https://verify.sanad.punjab.gov.in/v/{document_id}", longer)).version == 11
