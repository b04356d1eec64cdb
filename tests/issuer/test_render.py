"""The rendered certificate, checked with independent tools (poppler, zbar): the text
extracts as issued, the QR code scans, the JSON is attached, and the file is PDF/A-3b.
What the Typst engine adds (values never read as markup, one compiler shared by threads,
start-up checks) is in test_render_typst.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from issuer.exceptions import TemplateError
from issuer.qr import qr_png
from issuer.render import CertificateRenderer, IssuerInfo, _Document, _values, _values_json, format_inr
from issuer.templates import TemplateSpec, load_templates, validate_data
from sanad.i18n import LocalizedText
from tests.conftest import EXAMPLE_DATA, require_tool

DOCUMENT_ID = "k7q3xz5m2v9n4c8b6w1r0t5y3a"
VERIFY_URL = f"http://127.0.0.1:8000/v/{DOCUMENT_ID}"
# 20:30 UTC is already the next day in India: the printed date of issue is 02-03-2026.
ISSUED_AT = datetime(2026, 3, 1, 20, 30, 5, tzinfo=UTC)
VALID_UNTIL = date(2027, 3, 1)
ISSUER = IssuerInfo(
    code="PB-REV-LDH-W",
    name=LocalizedText(
        en="Office of the Tehsildar, Ludhiana (West)",
        pa="ਦਫ਼ਤਰ ਤਹਿਸੀਲਦਾਰ, ਲੁਧਿਆਣਾ (ਪੱਛਮੀ)",
        hi="कार्यालय तहसीलदार, लुधियाना (पश्चिम)",
    ),
)
DATA = EXAMPLE_DATA


def run(tool: str, *args: str | Path) -> str:
    result = subprocess.run([require_tool(tool), *map(str, args)], capture_output=True, text=True, check=True)
    return result.stdout


def render(
    renderer: CertificateRenderer,
    spec: TemplateSpec,
    data: dict[str, object],
    valid_until: date | None = VALID_UNTIL,
) -> bytes:
    return renderer.render(
        spec,
        document_id=DOCUMENT_ID,
        verify_url=VERIFY_URL,
        data=validate_data(spec, data),
        issuer=ISSUER,
        issued_at=ISSUED_AT,
        valid_until=valid_until,
    )


@pytest.fixture(scope="module")
def income(templates: dict[str, TemplateSpec]) -> TemplateSpec:
    return templates["income-certificate"]


@pytest.fixture(scope="module")
def pdf_path(renderer: CertificateRenderer, income: TemplateSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("render") / "certificate.pdf"
    path.write_bytes(render(renderer, income, DATA))
    return path


@pytest.fixture(scope="module")
def text(pdf_path: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", pdf_path, "-")


def test_holder_name_extracts_exactly_as_issued(text: str) -> None:
    assert "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ" in text
    assert "Gurpreet Singh" in text


def test_indic_text_extracts_in_logical_order(text: str) -> None:
    # Sihari reordering, pairin, nukta and Devanagari reph: what plain glyph mapping loses.
    for phrase in ["ਹਰਜੀਤ ਸਿੰਘ", "ਜ਼ਿਲ੍ਹਾ ਲੁਧਿਆਣਾ", "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", ISSUER.name.pa, ISSUER.name.hi, "आय प्रमाण पत्र"]:
        assert phrase in text


def test_printed_facts(text: str) -> None:
    assert DOCUMENT_ID in text
    assert "02-03-2026" in text  # date of issue in India
    assert "01-03-2027" in text
    assert "2,40,000" in text
    assert "INCOME CERTIFICATE" in text
    assert "Scan to verify" in text
    assert "ਤਸਦੀਕ ਲਈ ਸਕੈਨ ਕਰੋ" in text
    assert "digitally signed" in text
    assert ISSUER.code in text


def test_qr_code_scans_to_the_verify_url_at_72_dpi(pdf_path: Path, tmp_path: Path) -> None:
    run("pdftoppm", "-r", "72", "-png", "-singlefile", pdf_path, tmp_path / "page")
    assert run("zbarimg", "--raw", "-q", tmp_path / "page.png").rstrip("\n") == VERIFY_URL


def test_certificate_json_is_attached(pdf_path: Path, tmp_path: Path) -> None:
    listing = run("pdfdetach", "-list", pdf_path)
    assert re.search(r"^1: certificate\.json$", listing, re.MULTILINE), listing
    run("pdfdetach", "-save", "1", "-o", tmp_path / "out.json", pdf_path)
    attached = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert attached == {
        "document_id": DOCUMENT_ID,
        "type": "income-certificate",
        "issuer": {"code": ISSUER.code, "name": {"en": ISSUER.name.en, "pa": ISSUER.name.pa, "hi": ISSUER.name.hi}},
        "issued_at": "2026-03-01T20:30:05Z",
        "valid_until": "2027-03-01",
        "data": DATA,
    }
    assert "ਗੁਰਪ੍ਰੀਤ" in (tmp_path / "out.json").read_text(encoding="utf-8")  # not \u-escaped


def test_pdf_a_3b_with_title(pdf_path: Path) -> None:
    assert pdf_path.read_bytes().startswith(b"%PDF-1.7")
    xmp = run("pdfinfo", "-meta", pdf_path)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp), xmp
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp), xmp
    info = run("pdfinfo", pdf_path)
    assert re.search(rf"^Title: +Income Certificate / ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ, No\. {DOCUMENT_ID}$", info, re.MULTILINE)
    assert re.search(r"^Pages: +1$", info, re.MULTILINE)


def test_only_the_vendored_fonts_are_used_and_embedded(pdf_path: Path) -> None:
    rows = run("pdffonts", pdf_path).splitlines()[2:]
    assert rows
    for row in rows:
        name, *_ = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+NotoSerif(Gurmukhi|Devanagari)?-(Regular|Bold)", name), row
        assert " yes yes yes " in row  # embedded, subset, has ToUnicode


def test_same_input_gives_identical_bytes(renderer: CertificateRenderer, income: TemplateSpec, pdf_path: Path) -> None:
    assert render(renderer, income, DATA) == pdf_path.read_bytes()


def test_longest_allowed_values_still_fit_on_one_page(
    renderer: CertificateRenderer, income: TemplateSpec, tmp_path: Path
) -> None:
    longest = {
        **DATA,
        "holder_name": ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ " * 10)[:120],
        "holder_name_en": ("Gurpreet Singh " * 10)[:120],
        "relation_name": ("ਹਰਜੀਤ ਸਿੰਘ " * 12)[:120],
        "address": ("ਮਕਾਨ ਨੰ. 245, ਗਲੀ ਨੰ. 3, ਮਾਡਲ ਟਾਊਨ, " * 10)[:300],
        "district": ("ਸ਼ਹੀਦ ਭਗਤ ਸਿੰਘ ਨਗਰ " * 4)[:40],
        "annual_income": 999_999_999_999,
        "purpose": ("Post-matric scholarship ਵਜ਼ੀਫ਼ਾ " * 6)[:100],
    }
    path = tmp_path / "long.pdf"
    path.write_bytes(render(renderer, income, longest))
    assert re.search(r"^Pages: +1$", run("pdfinfo", path), re.MULTILINE)


def test_user_text_is_escaped_not_interpreted(
    renderer: CertificateRenderer, income: TemplateSpec, tmp_path: Path
) -> None:
    path = tmp_path / "escaped.pdf"
    path.write_bytes(render(renderer, income, {**DATA, "address": "<b>ਪਿੰਡ</b> & <i>Co</i>"}))
    assert "<b>ਪਿੰਡ</b> & <i>Co</i>" in run("pdftotext", "-enc", "UTF-8", path, "-")


def test_without_expiry(renderer: CertificateRenderer, income: TemplateSpec, tmp_path: Path) -> None:
    data = {key: value for key, value in DATA.items() if key != "purpose"}
    path = tmp_path / "no-expiry.pdf"
    path.write_bytes(render(renderer, income, data, valid_until=None))
    text = run("pdftotext", "-enc", "UTF-8", path, "-")
    assert "Valid until" not in text
    assert "Purpose" not in text
    run("pdfdetach", "-save", "1", "-o", tmp_path / "out.json", path)
    attached = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert attached["valid_until"] is None
    assert attached["data"] == data


def test_naive_issue_time_is_refused(renderer: CertificateRenderer, income: TemplateSpec) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        renderer.render(
            income,
            document_id=DOCUMENT_ID,
            verify_url=VERIFY_URL,
            data=validate_data(income, DATA),
            issuer=ISSUER,
            issued_at=datetime(2026, 3, 1, 10, 0),  # naive on purpose
            valid_until=None,
        )


def test_missing_font_stops_start_up(income: TemplateSpec, tmp_path: Path) -> None:
    # No silent fallback to the machine's fonts: the renderer refuses to start.
    shutil.copytree(income.directory, tmp_path / income.type)  # without ../fonts next to it
    shutil.copytree(income.directory.parent / "_shared", tmp_path / "_shared")
    with pytest.raises(TemplateError, match=r"fonts: fonts missing: Noto Serif, Noto Serif Devanagari"):
        CertificateRenderer(load_templates(tmp_path))


def test_missing_shared_frame_stops_start_up(income: TemplateSpec, tmp_path: Path) -> None:
    shutil.copytree(income.directory, tmp_path / income.type)
    shutil.copytree(income.directory.parent / "fonts", tmp_path / "fonts")
    with pytest.raises(TemplateError, match=r"template\.typ: file not found .*_shared/certificate\.typ"):
        CertificateRenderer(load_templates(tmp_path))


@pytest.mark.parametrize(
    ("amount", "printed"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1,000"),
        (99999, "99,999"),
        (100000, "1,00,000"),
        (240000, "2,40,000"),
        (12345678, "1,23,45,678"),
        (999_999_999_999, "9,99,99,99,99,999"),
        (-150000, "-1,50,000"),
    ],
)
def test_format_inr(amount: int, printed: str) -> None:
    assert format_inr(amount) == printed


@pytest.mark.parametrize(
    "data",
    [EXAMPLE_DATA, {**EXAMPLE_DATA, "purpose": 'A "quoted" \\ back-slashed ]} purpose ਸਿੰਘ'}],
)
def test_values_file_is_the_values_and_the_qr_png_as_json(income: TemplateSpec, data: dict[str, object]) -> None:
    url = "https://sanad.example/v/abcdefghijklmnopqrstuvwxyz#" + "s" * 96
    document = _Document("doc-1", url, data, ISSUER, datetime(2026, 12, 6, tzinfo=UTC), None, b"{}", "PB-1")

    written = json.loads(_values_json(income, document))

    assert written == {**_values(income, document), "qr_png": list(qr_png(url))}
