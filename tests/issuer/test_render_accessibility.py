"""The rendered certificate is tagged for accessibility (PDF/UA-1) and stays PDF/A-3b: the
structure, the language of each part, alt text for the seal and the QR code, the PDF/UA
identification, no interpolated images, one link annotation. veraPDF's verdict on every
template is in tests/judges/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.render import CertificateRenderer, IssuerInfo
from issuer.templates import TemplateSpec, validate_data
from sanad.i18n import LocalizedText

#: What the frame (templates/_shared/certificate.typ) says the QR code is.
QR_ALT_TEXT = "QR code to verify this certificate online"
ISSUER = IssuerInfo("REV", LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग"))


@pytest.fixture(scope="module", params=["income-certificate", "trade-licence"])
def reader(request: pytest.FixtureRequest, renderer: CertificateRenderer, templates: dict[str, TemplateSpec]) -> Any:
    spec = templates[request.param]
    example = json.loads((spec.directory / "example.json").read_text("utf-8"))
    pdf = renderer.render(
        spec,
        document_id="ac7q3xz5m2v9n4c8b6w1r0t5y3",
        verify_url="http://127.0.0.1:8000/v/ac7q3xz5m2v9n4c8b6w1r0t5y3#seal",
        data=validate_data(spec, example["data"]),
        issuer=ISSUER,
        issued_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        valid_until=None,
    )
    return PdfFileReader(BytesIO(pdf), strict=False)


def _structure(element: Any) -> list[Any]:
    """Every structure element under ``element``, depth first."""
    found = []
    element = element.get_object()
    kids = element.get("/K")
    for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, dict) and kid.get("/Type") == "/StructElem":
            found += [kid, *_structure(kid)]
    return found


def test_the_document_is_tagged_with_the_language_of_each_part(reader: Any) -> None:
    root = reader.root
    elements = _structure(root["/StructTreeRoot"])

    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]) == "pa"  # the certificate's main language
    languages = {str(e["/Lang"]) for e in elements if "/Lang" in e}
    assert languages == {"en", "hi"}  # the English paragraphs and the Hindi office name
    assert {str(e["/S"]) for e in elements} >= {"/H1", "/P", "/Table", "/Figure", "/Link"}


def test_the_seal_and_the_qr_code_have_alt_text(reader: Any) -> None:
    figures = [e for e in _structure(reader.root["/StructTreeRoot"]) if e["/S"] == "/Figure"]

    assert sorted(str(f["/Alt"]) for f in figures) == [QR_ALT_TEXT, "Seal of the Government of Punjab"]


def test_the_metadata_declares_pdf_a_3b_and_pdf_ua_1(reader: Any) -> None:
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")

    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert xmp.index("pdfuaid:part") < xmp.index("</rdf:RDF>")  # inside the one packet validators read
    assert xmp.count("<rdf:RDF") == 1


def test_images_are_not_interpolated_and_the_qr_code_has_one_link(reader: Any) -> None:
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    images = [
        x.get_object() for x in page["/Resources"]["/XObject"].values() if x.get_object().get("/Subtype") == "/Image"
    ]
    links = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Link"]

    assert images
    assert not any(bool(image.get("/Interpolate", False)) for image in images)  # PDF/A 6.2.8
    assert len(links) == 1  # two link annotations on one spot are "overlapping elements"
    assert str(links[0]["/A"]["/URI"]).endswith("#seal")
