"""What WeasyPrint 70 needs to write an accessible certificate (PDF/UA-1, ISO 14289-1)
that stays PDF/A-3b.

WeasyPrint tags the document itself (``pdf_tags=True``: the structure tree, marked
content, link and figure elements, alt text from ``alt`` and SVG ``<title>``). Three
things it does not do, added here:

- **The PDF/UA identification** (``pdfuaid:part``) in the XMP metadata. Its ``pdf/ua-1``
  variant excludes ``pdf/a-3b``, and XMP it is given comes after the first ``rdf:RDF``,
  where validators do not read it. ``declare_pdf_ua`` is a ``write_pdf`` finisher that
  puts the identification, and the PDF/A extension schema that PDF/A asks for any
  property outside its predefined schemas, into that ``rdf:RDF``.
- **The language of each part** (``/Lang`` on structure elements): WeasyPrint writes only
  the document's language (``<html lang>``) into the catalog, so a screen reader would
  read the English paragraphs with a Punjabi voice. ``install_language_tags`` wraps its
  structure builder to copy each element's ``lang`` attribute.
- **Alt text for the QR code**, whose ``<img>`` ``issuer.qr`` writes with an empty
  ``alt``: ``with_alt_text`` gives it one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pydyf  # type: ignore[import-untyped]
import weasyprint.pdf.tags

QR_ALT_TEXT = "QR code to verify this certificate online"

_UA_DESCRIPTIONS = b"""<rdf:Description rdf:about=""
  xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
  xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
  xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Part of ISO 14289 the file conforms to</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"><pdfuaid:part>1</pdfuaid:part></rdf:Description>
"""
_RDF_END = b"</rdf:RDF>"


def declare_pdf_ua(document: Any, pdf: Any) -> None:
    """A WeasyPrint ``finisher``: add the PDF/UA-1 identification to the XMP metadata that
    the PDF/A variant wrote (the stream is compressed only when the file is written)."""
    reference = int(pdf.catalog["Metadata"].split()[0])
    metadata = pdf.objects[reference]
    content = b"".join(metadata.stream)
    if _RDF_END not in content:
        raise ValueError("WeasyPrint wrote no XMP packet to declare PDF/UA in")
    metadata.stream = [content.replace(_RDF_END, _UA_DESCRIPTIONS + _RDF_END, 1)]


def install_language_tags() -> None:
    """Give every structure element made from an element with a ``lang`` attribute that
    language (``/Lang``); its children inherit it. Installed once, by the renderer."""
    module = weasyprint.pdf.tags
    original: Callable[..., Iterator[Any]] = module._build_box_tree
    if getattr(original, "_sanad_lang", False):
        return

    def build_box_tree(box: Any, parent: Any, *args: Any) -> Iterator[Any]:
        element = getattr(box, "element", None)
        language = element.get("lang") if element is not None and box.element_tag not in ("html", "body") else None
        for structure in original(box, parent, *args):
            # html and body yield their children's elements, which carry their own.
            if language:
                structure["Lang"] = pydyf.String(language)
            yield structure

    build_box_tree._sanad_lang = True  # type: ignore[attr-defined]
    module._build_box_tree = build_box_tree


_ALT = re.compile(r'\salt="[^"]*"')


def with_alt_text(image: str, text: str = QR_ALT_TEXT) -> str:
    """``image`` (one ``<img>`` element) with ``text`` as its alt text."""
    alt = f' alt="{html.escape(text)}"'
    if _ALT.search(image):
        return _ALT.sub(alt, image, count=1)
    return image.replace("<img", "<img" + alt, 1)
