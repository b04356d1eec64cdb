"""What the Typst engine adds to rendering: values are never read as markup, Indic text
whose marks Typst moves extracts exactly, one compiler serves threads safely, a character
no font has is refused with the field named, and a broken template stops start-up."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from issuer.exceptions import TemplateError
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.templates import TemplateSpec, load_templates, validate_data
from sanad.errors import InvalidInput
from sanad.i18n import LocalizedText
from tests.conftest import EXAMPLE_DATA, IssuingDepartment, require_tool

ISSUED_AT = datetime(2026, 3, 1, 10, 0, 5, 123456, tzinfo=UTC)
ISSUER = IssuerInfo("PB-REV-LDH-W", LocalizedText(en="Revenue office", pa="ਮਾਲ ਦਫ਼ਤਰ", hi="कार्यालय तहसीलदार"))
#: Typst markup, code and syntax a value must never trigger.
MARKUP = [
    '#panic("injected")',
    '] #read("/etc/passwd") [',
    "*bold* _emph_ $x^2$ <label> @ref",
    "`raw` = heading - item + 1. // comment /* block */",
    "\\ #{1 + 1} \"quoted\" 'single' ~ ---",
]


@pytest.fixture(scope="module")
def income(templates: dict[str, TemplateSpec]) -> TemplateSpec:
    return templates["income-certificate"]


def render(
    renderer: CertificateRenderer, spec: TemplateSpec, data: dict[str, object], document_id: str = "d1"
) -> bytes:
    return renderer.render(
        spec,
        document_id=document_id,
        verify_url=f"http://127.0.0.1:8000/v/{document_id}",
        data=validate_data(spec, data),
        issuer=ISSUER,
        issued_at=ISSUED_AT,
        valid_until=None,
    )


def copy_of(spec: TemplateSpec, tmp_path: Path) -> Path:
    """A templates directory with only ``spec``'s template, the shared frame and the fonts."""
    root = tmp_path / "templates"
    for name in (spec.type, "_shared", "fonts"):
        shutil.copytree(spec.directory.parent / name, root / name)
    return root


def text_of(pdf: bytes, tmp_path: Path) -> str:
    import subprocess

    (tmp_path / "c.pdf").write_bytes(pdf)
    out = subprocess.run(
        [require_tool("pdftotext"), "-enc", "UTF-8", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True
    )
    return " ".join(out.stdout.split())


@pytest.mark.parametrize("value", MARKUP)
def test_a_value_that_looks_like_markup_prints_as_typed(
    renderer: CertificateRenderer, income: TemplateSpec, value: str, tmp_path: Path
) -> None:
    pdf = render(renderer, income, {**EXAMPLE_DATA, "address": value, "holder_name_en": value[:120]})

    text = text_of(pdf, tmp_path)
    assert value in text
    assert "root:" not in text  # nothing was read from the machine


def test_marks_that_typst_moves_extract_once(
    renderer: CertificateRenderer, income: TemplateSpec, tmp_path: Path
) -> None:
    # ੇ over a pairin and the Devanagari reph are moved vertically by the fonts' mark
    # positioning; Typst then repeated their cluster's text (ਸ਼੍ਰੇਸ਼੍ਰੇਸ਼੍ਰੇਣੀ, कार्यार्यालय).
    names = "ਸ਼੍ਰੇਣੀ ਰਜਿਸਟ੍ਰੇਸ਼ਨ ਇੰਸਟ੍ਰਕਟਰ ਗੁਰਪ੍ਰੀਤ ਜ਼ਿਲ੍ਹਾ ਸਿੰਘ"
    text = text_of(render(renderer, income, {**EXAMPLE_DATA, "address": names}), tmp_path)

    assert names in text
    assert "कार्यालय तहसीलदार" in text  # the office's Hindi name in the letterhead
    assert "कार्यार्य" not in text


def test_one_compiler_serves_many_threads(renderer: CertificateRenderer, income: TemplateSpec) -> None:
    ids = [f"thread{i}" for i in range(8)]
    alone = {i: render(renderer, income, EXAMPLE_DATA, i) for i in ids}

    with ThreadPoolExecutor(4) as pool:
        together = dict(zip(ids, pool.map(lambda i: render(renderer, income, EXAMPLE_DATA, i), ids), strict=True))

    assert together == alone  # each document its own inputs, byte for byte


def test_a_character_no_font_has_is_refused_naming_the_field(
    renderer: CertificateRenderer, income: TemplateSpec
) -> None:
    with pytest.raises(InvalidInput) as caught:
        render(renderer, income, {**EXAMPLE_DATA, "holder_name_en": "தமிழ் Selvi", "district": "ਲੁਧਿਆਣਾ 🙂"})

    assert [e.field for e in caught.value.errors] == ["data.holder_name_en", "data.district"]
    assert "no font for த ம ழ ி ்" in caught.value.errors[0].message
    assert "🙂" in caught.value.errors[1].message


def test_a_template_that_does_not_compile_stops_start_up(income: TemplateSpec, tmp_path: Path) -> None:
    source = copy_of(income, tmp_path) / income.type / "template.typ"
    source.write_text(source.read_text("utf-8") + "\n#d.no_such_field\n", "utf-8")

    with pytest.raises(TemplateError, match=r"income-certificate/template\.typ: dictionary does not contain key"):
        CertificateRenderer(load_templates(source.parents[1]))


def test_a_template_printing_with_a_warning_stops_start_up(income: TemplateSpec, tmp_path: Path) -> None:
    source = copy_of(income, tmp_path) / income.type / "template.typ"
    source.write_text(source.read_text("utf-8") + '\n#text(font: "Comic Sans")[x]\n', "utf-8")

    with pytest.raises(TemplateError, match=r"unknown font family: comic sans"):
        CertificateRenderer(load_templates(source.parents[1]))


def test_the_api_answers_422_for_an_unprintable_name(client: TestClient, dept: IssuingDepartment) -> None:
    body = {
        "type": "income-certificate",
        "citizen_id": "PB-CIT-TAMIL",
        "data": {**EXAMPLE_DATA, "holder_name": "செல்வி"},
    }

    answer = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["fields"]] == ["data.holder_name"]


def test_the_frame_sets_the_per_document_title_after_the_page(templates: dict[str, TemplateSpec]) -> None:
    # A set rule above the content that reads a per-document value (the title names the
    # certificate's number) gives every document different styles, and Typst then lays the
    # whole page out anew for each one: ~2 ms more of a certificate's ~8 ms, same bytes.
    frame = (next(iter(templates.values())).directory.parent / "_shared" / "certificate.typ").read_text("utf-8")
    body = frame[frame.index("#let certificate(") :]
    assert body.count("set document(") == 1
    assert body.index("set document(") > body.index("_footer(c)"), "set document( moved above the page's content"
