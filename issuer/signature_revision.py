"""The certifying signature's incremental revision, written without a generic PDF writer.

pyHanko reads the whole rendered file into an object graph (every cross-reference entry,
the page tree, the form), then serialises a revision and searches it for the places to
fill in: about three quarters of a signature's CPU. For a file as the renderer writes it
(one revision, a classic cross-reference table, no form, no extensions) the revision is
always the same five objects, which differ from one document to the next only in object
numbers, byte offsets, the signing time and the file identifier:

- the first page, as rendered, with the signature widget added to its ``/Annots``;
- the catalog, as rendered, with ``/AcroForm``, ``/Perms /DocMDP``, the PAdES (ESIC) and
  ISO 32002 (ECDSA) extensions and ``/Version /2.0``, as pyHanko adds them;
- the form (``/SigFlags 3``), the invisible widget and field, and the signature
  dictionary with its ``/Contents`` placeholder.

Every offset is computed while the bytes are written, so ``/ByteRange`` (the whole file but
the ``/Contents`` string) is known before anything is hashed, and the container is
written into the placeholder by position. The rendered file is read only where it must
be: its trailer, its cross-reference table (which gives every object's extent) and the
catalog, page-tree and first-page dictionaries, whose bytes are kept as they are. A file
of any other shape is not this module's: ``prepare`` answers None and pyHanko signs it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pyhanko.sign.signers import Signer

from issuer.pdf_objects import ObjectBodies, xref_subsections

# The renderer's files declare 1.7 in their header; pyHanko's PAdES extension (ESIC) is
# registered below 2.0 only, so another header would call for another revision.
_HEADER = b"%PDF-1.7"
_XREF_HEAD = re.compile(rb"xref\r?\n0 (\d+)\r?\n")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?:\r\n| \n| \r)")
_ENTRY_BYTES = 20
_TRAILER = re.compile(rb"\s*trailer\s*<<(.*)>>\s*startxref\s*$", re.DOTALL)
_TRAILER_KEY = re.compile(
    rb"\s*(?:/Size\s+(?P<size>\d+)|/Root\s+(?P<root>\d+)\s+0\s+R|/Info\s+(?P<info>\d+)\s+0\s+R"
    rb"|/ID\s*\[\s*(?P<id1>\([^()\\]*\)|<[0-9A-Fa-f\s]*>)\s*(?:\([^()\\]*\)|<[0-9A-Fa-f\s]*>)\s*\])"
)
_PAGES_REF = re.compile(rb"/Pages\s+(\d+)\s+0\s+R")
_FIRST_KID = re.compile(rb"/Kids\s*\[\s*(\d+)\s+0\s+R")
_PAGE_TYPE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_PAGES_TYPE = re.compile(rb"/Type\s*/Pages(?![A-Za-z])")
_ANNOTS = re.compile(rb"/Annots\s*\[(?:\s*\d+\s+\d+\s+R)*\s*(\])")
_MAX_TREE_DEPTH = 8
# Catalog keys the revision adds: a catalog that has one already (a form, a signature, an
# extension, a version) is not a fresh rendering.
_CATALOG_ADDS = (b"/AcroForm", b"/Perms", b"/Extensions", b"/Version")

_EXTENSIONS = (
    b"/Extensions<</ESIC<</Type/DeveloperExtensions/BaseVersion/1.7/ExtensionLevel 1>>"
    b"/ISO_[<</Type/DeveloperExtensions/BaseVersion/2.0/ExtensionLevel 32002"
    b"/URL(https://www.iso.org/standard/45875.html)/ExtensionRevision(:2022)>>]>>/Version/2.0"
)
# /F 132: print, locked. An invisible field, as pyHanko makes it.
_WIDGET = b"<</FT/Sig/T(%s)/Type/Annot/Subtype/Widget/F 132/Rect[0 0 0 0]/P %d 0 R/V %d 0 R>>"
_BYTE_RANGE_WIDTH = 48
_CURVES_WITH_ISO_32002 = frozenset({"secp256r1", "secp384r1", "secp521r1"})


def _pdf_text(text: str) -> bytes:
    """A literal string: ASCII with its delimiters escaped (the template's own text)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("ascii") + b")"


@dataclass(frozen=True)
class RevisionTemplate:
    """What every revision of one signer and profile has in common, encoded once."""

    field: bytes
    """The field's name as a PDF string."""
    after_time: bytes
    """The signature dictionary from its ``/Location`` to just before ``/ByteRange``."""
    contents_hex_digits: int
    """The ``/Contents`` placeholder's size, in hex digits (pyHanko's ``bytes_reserved``)."""

    @classmethod
    def for_signer(
        cls, signer: Signer, *, field_name: str, reason: str, location: str, contents_hex_digits: int
    ) -> RevisionTemplate | None:
        """The template for ``signer``'s signatures, or None when pyHanko would register
        other extensions for its key (only ECDSA on the ISO 32002 curves is written here)."""
        certificate = signer.signing_cert
        try:
            algorithm = signer.get_signature_mechanism_for_digest("sha256").signature_algo
        except ValueError:
            return None
        if certificate is None or algorithm != "ecdsa":
            return None
        kind, curve = certificate.public_key.curve
        if kind != "named" or curve not in _CURVES_WITH_ISO_32002:
            return None
        after_time = (
            b"/Location"
            + _pdf_text(location)
            + b"/Reason"
            + _pdf_text(reason)
            + b"/Reference[<</Type/SigRef/TransformMethod/DocMDP"
            + b"/TransformParams<</Type/TransformParams/V/1.2/P 1>>>>]"
        )
        return cls(_pdf_text(field_name), after_time, contents_hex_digits)

    def prepare(self, pdf: bytes, moment: datetime) -> PreparedRevision | None:
        """``pdf`` with the revision appended, its ``/Contents`` still zeros; None when
        ``pdf`` is not a fresh rendering of the shape this module writes for."""
        layout = _read_layout(pdf)
        if layout is None:
            return None
        return self._write(pdf, layout, moment, os.urandom(16))

    def _write(self, pdf: bytes, layout: _Layout, moment: datetime, second_id: bytes) -> PreparedRevision:
        form, widget, signature = layout.size, layout.size + 1, layout.size + 2
        out = bytearray(pdf)
        if not pdf.endswith((b"\n", b"\r")):
            out += b"\n"
        offsets: dict[int, int] = {}

        def add(number: int, body: bytes) -> None:
            offsets[number] = len(out)
            out.extend(b"%d 0 obj\n" % number)
            out.extend(body)
            out.extend(b"\nendobj\n")

        page_body = layout.page_body
        annots = _ANNOTS.search(page_body)
        if annots is None:
            page_body = page_body + b"/Annots[%d 0 R]" % widget
        else:
            at = annots.start(1)
            page_body = page_body[:at] + b" %d 0 R" % widget + page_body[at:]
        add(layout.page, b"<<" + page_body + b">>")
        add(
            layout.root,
            b"<<"
            + layout.catalog_body
            + b"/AcroForm %d 0 R" % form
            + _EXTENSIONS
            + b"/Perms<</DocMDP %d 0 R>>>>" % signature,
        )
        add(form, b"<</Fields[%d 0 R]/SigFlags 3>>" % widget)
        add(widget, _WIDGET % (self.field[1:-1], layout.page, signature))

        offsets[signature] = len(out)
        signing_time = moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ").encode("ascii")
        out.extend(
            b"%d 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M(%s)"
            % (signature, signing_time)
        )
        out.extend(self.after_time)
        out.extend(b"/ByteRange")
        byte_range_at = len(out)
        out.extend(b" " * _BYTE_RANGE_WIDTH)
        out.extend(b"/Contents")
        contents_start = len(out)
        out.extend(b"<" + b"0" * self.contents_hex_digits + b">")
        contents_end = len(out)
        out.extend(b">>\nendobj\n")

        xref_at = len(out)
        out.extend(b"xref\n0 1\n0000000000 65535 f\r\n")
        for start, numbers in xref_subsections(sorted(offsets)):
            out.extend(b"%d %d\n" % (start, len(numbers)))
            for number in numbers:
                out.extend(b"%010d 00000 n\r\n" % offsets[number])
        out.extend(b"trailer\n<</Size %d/Root %d 0 R" % (signature + 1, layout.root))
        if layout.info is not None:
            out.extend(b"/Info %d 0 R" % layout.info)
        out.extend(
            b"/ID[<%s><%s>]/Prev %d>>\n" % (layout.first_id.hex().encode(), second_id.hex().encode(), layout.prev)
        )
        out.extend(b"startxref\n%d\n%%%%EOF\n" % xref_at)

        byte_range = b"[0 %d %d %d]" % (contents_start, contents_end, len(out) - contents_end)
        out[byte_range_at : byte_range_at + len(byte_range)] = byte_range
        return PreparedRevision(out, contents_start, contents_end)


@dataclass
class PreparedRevision:
    """The file to be signed: everything written but the container."""

    pdf: bytearray
    contents_start: int
    """Where the ``/Contents`` hex string (its ``<``) begins; the first range ends here."""
    contents_end: int
    """Just after its ``>``; the second range runs from here to the end of the file."""

    def digest(self) -> bytes:
        """SHA-256 of the bytes ``/ByteRange`` covers."""
        # Released before ``embed`` writes into the buffer (an exported buffer is locked).
        with memoryview(self.pdf) as view:
            hasher = hashlib.sha256(view[: self.contents_start])
            hasher.update(view[self.contents_end :])
        return hasher.digest()

    def embed(self, container: bytes) -> bytes:
        """The signed file: ``container`` (DER) in the placeholder, padded with zeros."""
        encoded = container.hex().encode("ascii")
        room = self.contents_end - self.contents_start - 2
        if len(encoded) > room:
            raise ValueError(f"the signature container needs {len(encoded)} hex digits; {room} were reserved")
        self.pdf[self.contents_start + 1 : self.contents_start + 1 + len(encoded)] = encoded
        return bytes(self.pdf)


@dataclass(frozen=True)
class _Layout:
    """What the revision needs to know about the rendered file."""

    size: int
    root: int
    info: int | None
    first_id: bytes
    prev: int
    """Where the rendered file's cross-reference table starts."""
    catalog_body: bytes
    """The catalog dictionary's contents, between its ``<<`` and ``>>``."""
    page: int
    page_body: bytes


def _read_layout(pdf: bytes) -> _Layout | None:
    if not pdf.startswith(_HEADER):
        return None
    tail_at = pdf.rfind(b"startxref", max(0, len(pdf) - 1024))
    if tail_at < 0:
        return None
    tail = pdf[tail_at + len(b"startxref") :].split()
    if len(tail) != 2 or tail[1] != b"%%EOF" or not tail[0].isdigit():
        return None
    xref_at = int(tail[0])
    head = _XREF_HEAD.match(pdf, xref_at)
    if head is None:
        return None
    count = int(head.group(1))
    entries_at = head.end()
    trailer_at = entries_at + count * _ENTRY_BYTES
    offsets: dict[int, int] = {}
    for number in range(count):
        entry = _XREF_ENTRY.match(pdf, entries_at + number * _ENTRY_BYTES)
        if entry is None:
            return None
        if entry.group(3) == b"n":
            if entry.group(2) != b"00000":
                return None
            offsets[number] = int(entry.group(1))
    trailer = _TRAILER.match(pdf, trailer_at, tail_at + len(b"startxref"))
    if trailer is None:
        return None
    fields = _trailer_fields(trailer.group(1))
    if fields is None:
        return None
    numbers, first_id = fields
    if numbers.get("size") != count or "root" not in numbers or first_id is None:
        return None
    objects = ObjectBodies(pdf, offsets, xref_at)
    root = numbers["root"]
    catalog = objects.body(root)
    if catalog is None or any(key in catalog for key in _CATALOG_ADDS) or b"/Catalog" not in catalog:
        return None
    first_page = _first_page(objects, catalog)
    if first_page is None:
        return None
    page, page_body = first_page
    if page_body.count(b"/Annots") > 1 or (b"/Annots" in page_body and _ANNOTS.search(page_body) is None):
        return None  # annotations by reference, or written in a way this module does not edit
    return _Layout(count, root, numbers.get("info"), first_id, xref_at, catalog, page, page_body)


def _trailer_fields(text: bytes) -> tuple[dict[str, int], bytes | None] | None:
    """The trailer's /Size, /Root and /Info, and the first string of its /ID; None if it
    has any other key (an /Encrypt, a /Prev: a file this module does not write for)."""
    numbers: dict[str, int] = {}
    first_id: bytes | None = None
    at = 0
    while text[at:].strip():
        match = _TRAILER_KEY.match(text, at)
        if match is None:
            return None
        for name, value in match.groupdict().items():
            if value is None:
                continue
            if name == "id1":
                if first_id is not None:
                    return None
                first_id = _string_bytes(value)
            elif name in numbers:
                return None
            else:
                numbers[name] = int(value)
        at = match.end()
    return numbers, first_id


def _string_bytes(token: bytes) -> bytes:
    if token.startswith(b"<"):
        digits = bytes(c for c in token[1:-1] if c not in b" \t\r\n\f")
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
    # A literal string with no backslash and no parenthesis: its bytes as written, but
    # for end-of-line sequences, which read as one line feed.
    return token[1:-1].replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _first_page(objects: ObjectBodies, catalog: bytes) -> tuple[int, bytes] | None:
    pages = _PAGES_REF.findall(catalog)
    if len(pages) != 1:
        return None
    number = int(pages[0])
    for _ in range(_MAX_TREE_DEPTH):
        node = objects.body(number)
        if node is None:
            return None
        if _PAGE_TYPE.search(node) and not _PAGES_TYPE.search(node):
            return number, node
        kid = _FIRST_KID.search(node) if _PAGES_TYPE.search(node) else None
        if kid is None:
            return None
        number = int(kid.group(1))
    return None
