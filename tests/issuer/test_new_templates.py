"""Every certificate template, checked the way income-certificate is: its example
validates and renders to a one-page PDF/A whose text (pdftotext) carries the holder's
name, with a QR code that scans and only the vendored fonts; the longest allowed data
still fits on one page; and each template prints its own facts correctly."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from issuer.render import CertificateRenderer, IssuerInfo
from issuer.templates import TemplateSpec, validate_data
from sanad.i18n import LocalizedText
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
#: Every template directory, found on disk: a template added later is tested too.
TEMPLATE_TYPES = sorted(p.parent.name for p in (REPO / "templates").glob("*/meta.yaml"))
NEW_TYPES = ["birth-certificate", "caste-certificate", "learner-licence", "residence-certificate", "trade-licence"]

DOCUMENT_ID = "k7q3xz5m2v9n4c8b6w1r0t5y3a"
VERIFY_URL = f"http://127.0.0.1:8000/v/{DOCUMENT_ID}"
ISSUED_AT = datetime(2026, 3, 1, 20, 30, 5, tzinfo=UTC)  # 02-03-2026 in India
# A long two-line office name: the worst case for the space left above the footer.
ISSUER = IssuerInfo(
    code="PB-LG-MOH-MC",
    name=LocalizedText(
        en="Municipal Corporation, Sahibzada Ajit Singh Nagar (Mohali)",
        pa="ਨਗਰ ਨਿਗਮ, ਸਾਹਿਬਜ਼ਾਦਾ ਅਜੀਤ ਸਿੰਘ ਨਗਰ (ਮੋਹਾਲੀ)",
        hi="नगर निगम, साहिबज़ादा अजीत सिंह नगर (मोहाली)",
    ),
)


def run(tool: str, *args: str | Path) -> str:
    result = subprocess.run([require_tool(tool), *map(str, args)], capture_output=True, text=True, check=True)
    return result.stdout


def example(spec: TemplateSpec) -> dict[str, object]:
    request = json.loads((spec.directory / "example.json").read_text("utf-8"))
    assert request["type"] == spec.type
    assert request["citizen_id"]
    data: dict[str, object] = request["data"]
    return data


def valid_until(spec: TemplateSpec) -> date | None:
    return date(2027, 3, 1) if spec.default_validity_days else None


def render(
    renderer: CertificateRenderer,
    spec: TemplateSpec,
    data: dict[str, object],
    path: Path,
    until: date | None = None,
) -> Path:
    pdf = renderer.render(
        spec,
        document_id=DOCUMENT_ID,
        verify_url=VERIFY_URL,
        data=validate_data(spec, data),
        issuer=ISSUER,
        issued_at=ISSUED_AT,
        valid_until=until,
    )
    path.write_bytes(pdf)
    return path


def pages(path: Path) -> int:
    match = re.search(r"^Pages: +(\d+)$", run("pdfinfo", path), re.MULTILINE)
    assert match
    return int(match.group(1))


def text_of(path: Path) -> str:
    """The extracted text with whitespace runs as single spaces: pdftotext breaks lines
    where the PDF does, which may be inside a name."""
    return " ".join(run("pdftotext", "-enc", "UTF-8", path, "-").split())


@pytest.fixture(scope="module")
def rendered(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each template's example, rendered once."""
    directory = tmp_path_factory.mktemp("examples")
    return {
        doc_type: render(renderer, spec, example(spec), directory / f"{doc_type}.pdf", valid_until(spec))
        for doc_type, spec in templates.items()
    }


def test_the_five_new_templates_are_present(templates: dict[str, TemplateSpec]) -> None:
    assert set(NEW_TYPES) <= set(templates)
    assert set(TEMPLATE_TYPES) == set(templates)


# --- metadata ---------------------------------------------------------------------------------


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_labels_and_titles_are_in_gurmukhi_and_devanagari(templates: dict[str, TemplateSpec], doc_type: str) -> None:
    spec = templates[doc_type]
    for text in [spec.title, *(field.label for field in spec.fields)]:
        assert "GURMUKHI" in _scripts(text.pa), text
        assert _scripts(text.hi) == {"DEVANAGARI"}, text
        assert _scripts(text.en) == {"LATIN"}, text


@pytest.mark.parametrize(
    ("doc_type", "holder", "validity"),
    [
        ("residence-certificate", "holder_name", None),
        ("caste-certificate", "holder_name", None),
        ("birth-certificate", "child_name", None),
        ("trade-licence", "owner_name", 365),
        ("learner-licence", "holder_name", 180),
    ],
)
def test_new_template_metadata(
    templates: dict[str, TemplateSpec], doc_type: str, holder: str, validity: int | None
) -> None:
    spec = templates[doc_type]
    assert spec.holder_field == holder
    assert spec.default_validity_days == validity
    assert spec.directory == (REPO / "templates" / doc_type).resolve()


def test_choices(templates: dict[str, TemplateSpec]) -> None:
    choices = {(t, f.name): f.choices for t, spec in templates.items() for f in spec.fields if f.type == "enum"}
    assert choices["caste-certificate", "category"] == ("scheduled_caste", "backward_class")
    assert choices["birth-certificate", "sex"] == ("male", "female", "other")
    assert choices["learner-licence", "vehicle_classes"] == ("mcwog", "mcwg", "lmv", "mcwog_lmv", "mcwg_lmv")
    assert "eating_house" in choices["trade-licence", "trade_category"]


# --- the examples, rendered -----------------------------------------------------------------------


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_example_renders_one_page_naming_the_holder(
    templates: dict[str, TemplateSpec], rendered: dict[str, Path], doc_type: str
) -> None:
    spec = templates[doc_type]
    data = example(spec)
    text = text_of(rendered[doc_type])
    assert pages(rendered[doc_type]) == 1
    assert str(data[spec.holder_field]) in text
    english = data.get(f"{spec.holder_field}_en")
    if english:
        assert str(english) in text
    assert DOCUMENT_ID in text
    assert "02-03-2026" in text  # date of issue in India
    assert spec.title.en.upper() in text
    assert spec.title.pa in text
    assert "Scan to verify" in text
    assert ISSUER.name.pa in text


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_pdf_a_3b_with_title_and_attached_json(
    templates: dict[str, TemplateSpec], rendered: dict[str, Path], doc_type: str, tmp_path: Path
) -> None:
    spec, path = templates[doc_type], rendered[doc_type]
    xmp = run("pdfinfo", "-meta", path)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    info = run("pdfinfo", path)
    title = re.escape(f"{spec.title.en} / {spec.title.pa}, No. {DOCUMENT_ID}")
    assert re.search(rf"^Title: +{title}$", info, re.MULTILINE), info
    run("pdfdetach", "-save", "1", "-o", tmp_path / "out.json", path)
    attached = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert attached["type"] == doc_type
    assert attached["data"] == validate_data(spec, example(spec))


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_qr_code_scans_at_72_dpi(rendered: dict[str, Path], doc_type: str, tmp_path: Path) -> None:
    run("pdftoppm", "-r", "72", "-png", "-singlefile", rendered[doc_type], tmp_path / "page")
    assert run("zbarimg", "--raw", "-q", tmp_path / "page.png").rstrip("\n") == VERIFY_URL


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_only_the_vendored_fonts_are_embedded(rendered: dict[str, Path], doc_type: str) -> None:
    rows = run("pdffonts", rendered[doc_type]).splitlines()[2:]
    assert rows
    for row in rows:
        name, *_ = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+NotoSerif(Gurmukhi|Devanagari)?-(Regular|Bold)", name), row
        assert " yes yes yes " in row


# --- the worst case -----------------------------------------------------------------------------


def longest(spec: TemplateSpec, data: dict[str, object]) -> dict[str, object]:
    """``data`` with every free text at its maximum length, every number at its maximum
    and every choice at its longest value; patterned text keeps its example."""
    result = dict(data)
    for field in spec.fields:
        if field.type == "text" and field.pattern is None and field.max_length:
            phrase = (
                "Gurpreet Singh Sandhu " if field.name.endswith("_en") else "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ ਮਕਾਨ ਨੰ. 245, ਸ਼ਹੀਦ ਭਗਤ ਸਿੰਘ ਨਗਰ "
            )
            result[field.name] = (phrase * (field.max_length // len(phrase) + 1))[: field.max_length].strip()
        elif field.type == "integer" and field.max is not None:
            result[field.name] = field.max
        elif field.type == "enum":
            result[field.name] = max(field.choices, key=len)
    return result


@pytest.mark.parametrize("doc_type", TEMPLATE_TYPES)
def test_longest_allowed_values_still_fit_on_one_page(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], doc_type: str, tmp_path: Path
) -> None:
    spec = templates[doc_type]
    path = render(renderer, spec, longest(spec, example(spec)), tmp_path / "long.pdf", date(2027, 3, 1))
    assert pages(path) == 1


# --- what each new template prints ------------------------------------------------------------------


def test_residence_certificate_says_since_when(rendered: dict[str, Path]) -> None:
    text = text_of(rendered["residence-certificate"])
    assert "since 1998" in text
    assert "ਸਾਲ 1998 ਤੋਂ" in text
    assert "Tehsil Nabha, District Patiala" in text  # the English paragraph in English
    assert "ਤਹਿਸੀਲ ਨਾਭਾ" in text
    assert "Valid until" not in text  # a residence certificate does not lapse


def test_caste_certificate_cites_the_instrument_of_each_category(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], rendered: dict[str, Path], tmp_path: Path
) -> None:
    text = text_of(rendered["caste-certificate"])
    assert "recognised as a Scheduled Caste" in text
    assert "Constitution (Scheduled Castes) Order, 1950" in text
    assert "ਅਨੁਸੂਚਿਤ ਜਾਤੀ" in text
    spec = templates["caste-certificate"]
    data = {**example(spec), "category": "backward_class", "caste": "ਸੈਣੀ", "relation": "daughter_of"}
    text = text_of(render(renderer, spec, data, tmp_path / "bc.pdf"))
    assert "recognised as a Backward Class" in text
    assert "list of Backward Classes notified by the Government of Punjab" in text
    assert "Scheduled" not in text
    assert "ਰੱਖਦੀ ਹੈ" in text  # she belongs: the verb agrees with a daughter


def test_birth_certificate_prints_dates_as_offices_do(rendered: dict[str, Path]) -> None:
    text = text_of(rendered["birth-certificate"])
    assert "14-02-2026" in text  # date of birth
    assert "16-02-2026" in text  # date of registration
    assert "B-2026-LDH-000417" in text
    assert "Registration of Births and Deaths Act, 1969" in text
    assert "(female)" in text


def test_birth_certificate_without_father(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], tmp_path: Path
) -> None:
    spec = templates["birth-certificate"]
    data = {key: value for key, value in example(spec).items() if key not in {"father_name", "father_name_en"}}
    text = text_of(render(renderer, spec, data, tmp_path / "no-father.pdf"))
    assert "father" not in text
    assert "ਪਿਤਾ ਦਾ ਨਾਮ" not in text
    assert "ਹਰਲੀਨ ਕੌਰ" in text
    assert "Harleen Kaur" in text
    assert "Mother: Jaspreet Kaur; address of the parents" in text


@pytest.mark.parametrize("doc_type", ["trade-licence", "learner-licence"])
def test_licences_print_licence_number_and_validity(rendered: dict[str, Path], doc_type: str) -> None:
    text = text_of(rendered[doc_type])
    assert "Licence No." in text
    assert "Valid until" in text
    assert "01-03-2027" in text
    assert "valid until the date shown above" in text
    assert "Conditions:" in text


@pytest.mark.parametrize("doc_type", ["trade-licence", "learner-licence"])
def test_licence_without_expiry_claims_none(
    renderer: CertificateRenderer, templates: dict[str, TemplateSpec], doc_type: str, tmp_path: Path
) -> None:
    spec = templates[doc_type]
    text = text_of(render(renderer, spec, example(spec), tmp_path / "open.pdf", None))
    assert "Valid until" not in text
    assert "valid until" not in text


def test_learner_licence_prints_classes_and_birth_date(rendered: dict[str, Path]) -> None:
    text = text_of(rendered["learner-licence"])
    assert "motor cycle with gear (MCWG) and light motor vehicle (LMV)" in text
    assert "born on 21-09-2007" in text
    assert "section 8 of the Motor Vehicles Act, 1988" in text


def test_trade_licence_prints_trade_and_premises(rendered: dict[str, Path]) -> None:
    text = text_of(rendered["trade-licence"])
    assert "trade of a sweet shop / bakery" in text
    assert "ਗਿੱਲ ਸਵੀਟਸ ਐਂਡ ਬੇਕਰਜ਼" in text
    assert "under the name Gill Sweets and Bakers" in text
    assert "Ward No. 23" in text
