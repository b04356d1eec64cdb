"""Reading an untrusted PDF for what offline checks compare: the seal in its verification
link and its ``certificate.json`` attachment. Whatever cannot be read counts as absent."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.seal import seal_from_text

#: ``issuer.render.ATTACHMENT_NAME``, repeated so that offline checks need no renderer.
ATTACHMENT_NAME = "certificate.json"
log = logging.getLogger(__name__)

_MAX_DEPTH = 32


def _pages(node: generic.DictionaryObject, depth: int = 0) -> Iterator[generic.DictionaryObject]:
    if depth > _MAX_DEPTH:
        return
    if node.get("/Type") == "/Page" or "/Kids" not in node:
        yield node
        return
    for kid in node["/Kids"]:
        yield from _pages(kid.get_object(), depth + 1)


def _names(node: generic.DictionaryObject, depth: int = 0) -> Iterator[tuple[str, generic.PdfObject]]:
    if depth > _MAX_DEPTH:
        return
    names = node.get("/Names")
    if names is not None:
        items = list(names)
        for name, value in zip(items[::2], items[1::2], strict=False):
            yield str(name), value.get_object()
    for kid in node.get("/Kids", []):
        yield from _names(kid.get_object(), depth + 1)


def read_seal_and_attachment(pdf: bytes) -> tuple[str | None, bytes | None]:
    """The seal in the first page link that carries one, and the ``certificate.json`` bytes.
    Whatever cannot be read counts as absent (``check_signature`` says what is wrong)."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
    except Exception:  # untrusted input
        return None, None
    return _seal_in_links(reader), _attachment(reader)


def _seal_in_links(reader: PdfFileReader) -> str | None:
    try:
        for page in _pages(reader.root["/Pages"].get_object()):
            for annotation in page.get("/Annots", []):
                annotation = annotation.get_object()
                action = annotation.get("/A")
                if annotation.get("/Subtype") != "/Link" or action is None:
                    continue
                uri = action.get_object().get("/URI")
                seal = seal_from_text(_text(uri)) if uri is not None else None
                if seal is not None:
                    return seal
    except Exception:  # untrusted input
        log.info("could not read the PDF's links", exc_info=True)
    return None


def _attachment(reader: PdfFileReader) -> bytes | None:
    try:
        names = reader.root.get("/Names")
        embedded = names.get_object().get("/EmbeddedFiles") if names is not None else None
        if embedded is None:
            return None
        for name, spec in _names(embedded.get_object()):
            if name == ATTACHMENT_NAME and isinstance(spec, generic.DictionaryObject):
                return bytes(spec["/EF"].get_object()["/F"].get_object().data)
    except Exception:  # untrusted input
        log.info("could not read the PDF's attachments", exc_info=True)
    return None


def _text(value: Any) -> str:
    value = value.get_object()
    if isinstance(value, generic.ByteStringObject):
        return bytes(value).decode("latin-1")
    return str(value)
