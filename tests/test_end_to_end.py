"""Issue → download → verify, checked by independent tools (poppler, zbar, NSS).

Runs on both backends; on ``postgres-minio`` it is the end-to-end test on the real parts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment, income_certificate, require_tool

HOLDER = "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"


@pytest.fixture
def issued(client: TestClient, dept: IssuingDepartment, tmp_path: Path) -> tuple[dict[str, str], Path]:
    response = client.post("/api/v1/documents", json=income_certificate(holder_name=HOLDER), headers=dept.headers)
    assert response.status_code == 201, response.text
    record = response.json()
    pdf = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return record, path


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def test_issue_download_verify(client: TestClient, issued: tuple[dict[str, str], Path]) -> None:
    record, path = issued

    result = client.post("/api/v1/verify", files={"file": ("c.pdf", path.read_bytes(), "application/pdf")}).json()
    page = client.get(
        record["verify_url"].removeprefix("http://127.0.0.1:8000"), headers={"Accept": "application/json"}
    )

    assert result["indication"] == "TOTAL_PASSED"
    assert page.json()["status"] == "valid"


def test_pdfsig_says_valid_trusted_and_total_document_signed(
    issued: tuple[dict[str, str], Path], backend: Backend, tmp_path: Path
) -> None:
    pdfsig, certutil = require_tool("pdfsig"), require_tool("certutil")
    _, path = issued
    nss = tmp_path / "nss"
    nss.mkdir()
    run(certutil, "-N", "-d", f"sql:{nss}", "--empty-password")
    run(
        certutil,
        "-A",
        "-d",
        f"sql:{nss}",
        "-n",
        "sanad-root",
        "-t",
        "C,C,C",
        "-i",
        str(backend.settings.keys_dir / "root-ca.pem"),
    )

    # pdfsig exits 0 whatever it finds: read what it says.
    report = run(pdfsig, "-nssdir", f"sql:{nss}", str(path))

    # B-LTA: the department's signature, then an archival document timestamp over it all.
    signature, timestamp = report.split("Signature #2:")
    assert "Signature Validation: Signature is Valid." in signature
    assert "Certificate Validation: Certificate is Trusted." in signature
    assert "ETSI.CAdES.detached" in signature
    assert "Signature Field Name: ArchiveTimestamp" in timestamp
    assert "Sanad Development Time-Stamping Authority" in timestamp
    assert "  - Total document signed" in timestamp
    assert "Signature #3" not in report


def test_pdfsig_notices_appended_content(issued: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    pdfsig = require_tool("pdfsig")
    _, path = issued
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(path.read_bytes() + b"\n% appended after signing\n")

    assert "Not total document signed" in run(pdfsig, str(forged))


def test_qr_decodes_to_the_sealed_verify_url_from_a_150_dpi_render(
    issued: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    pdftoppm, zbarimg = require_tool("pdftoppm"), require_tool("zbarimg")
    record, path = issued

    # The code carries the seal in the URL's fragment (issuer/seal.py), the URL in upper
    # case for the QR's alphanumeric mode (72 dpi and photos: tests/issuer/test_qr_scanning.py).
    run(pdftoppm, "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    (image,) = tmp_path.glob("page*.png")
    decoded = run(zbarimg, "--raw", "-q", str(image)).strip()

    url, _, seal = decoded.partition("#")
    assert url.lower() == record["verify_url"]
    assert seal.isdigit()


def test_pdftotext_returns_the_gurmukhi_holder_name(issued: tuple[dict[str, str], Path]) -> None:
    pdftotext = require_tool("pdftotext")
    _, path = issued

    assert HOLDER in run(pdftotext, str(path), "-")


def test_machine_readable_json_is_attached(issued: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    import json

    pdfdetach = require_tool("pdfdetach")
    record, path = issued

    assert "certificate.json" in run(pdfdetach, "-list", str(path))
    out = tmp_path / "certificate.json"
    run(pdfdetach, "-savefile", "certificate.json", "-o", str(out), str(path))
    attached = json.loads(out.read_text("utf-8"))
    assert attached["document_id"] == record["id"]
    assert attached["data"]["holder_name"] == HOLDER
