"""The long-term revision (document security store, document timestamp) written without a
generic PDF writer.

pyHanko reads the signed file back into an object graph (both revisions' cross-reference
tables, the catalog, the form) before it can append anything: most of the long-term
step's CPU. A file whose last revision is the signature revision ``issuer.signature_revision``
writes has a known shape: a classic cross-reference table of one revision's objects, a
trailer of five keys, and in that revision the catalog, the form (one field), the
signature's widget and the page it sits on. The long-term revision is then always the
same objects, differing from one document to the next only in numbers, offsets, the
evidence and the timestamp:

- the catalog, as the signature revision wrote it, with ``/DSS``;
- one stream per certificate, OCSP response and CRL (the DER as it is, no filter), in the
  order pyHanko allocates them: the certificates, the OCSP responses, the CRLs, then the
  certificates the OCSP responses carry that are not there already (by issuer and serial);
- the DSS dictionary (``/Certs``, ``/OCSPs``, ``/CRLs``; no ``/VRI``: pyHanko writes none
  when it is given no signature contents, as here);
- for B-LTA, the page with the timestamp's widget added to ``/Annots``, the form with the
  new field, the invisible widget, and the ``/DocTimeStamp`` dictionary with its
  ``/Contents`` placeholder, as pyHanko's ``PdfTimeStamper`` writes them.

Only the last revision is read: its trailer, its cross-reference table and the four
dictionaries, whose bytes are kept as they are. A file of any other shape (signed by
pyHanko, already carrying a DSS, edited) is not this module's: the functions answer None
and pyHanko writes the revision.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from issuer.pdf_objects import ObjectBodies, xref_subsections
from issuer.signature_revision import PreparedRevision

_TRAILER = re.compile(
    rb"trailer\n<</Size (?P<size>\d+)/Root (?P<root>\d+) 0 R(?:/Info (?P<info>\d+) 0 R)?"
    rb"/ID\[<(?P<id1>[0-9a-f]*)><[0-9a-f]*>\]/Prev \d+>>\nstartxref\n(?P<xref>\d+)\n%%EOF\n\Z"
)
_XREF_HEAD = b"xref\n0 1\n0000000000 65535 f\r\n"
_SUBSECTION = re.compile(rb"(\d+) (\d+)\n")
_ENTRY = re.compile(rb"(\d{10}) 00000 n\r\n")
_ENTRY_BYTES = 20
_ACRO_FORM_REF = re.compile(rb"/AcroForm (\d+) 0 R")
_FORM = re.compile(rb"/Fields\[(\d+) 0 R\]/SigFlags 3\Z")
_WIDGET_PAGE = re.compile(rb"/P (\d+) 0 R")
_WIDGET_NAME = re.compile(rb"/T\(([^()\\]*)\)")
_ANNOTS = re.compile(rb"/Annots\[(?:\s*\d+\s+\d+\s+R)*\s*(\])")
# The timestamp's invisible widget and dictionary, as pyHanko's PdfTimeStamper makes them.
_WIDGET = b"<</FT/Sig/T%s/Type/Annot/Subtype/Widget/F 132/Rect[0 0 0 0]/P %d 0 R/TU(Timestamp)/V %d 0 R>>"
_TIMESTAMP_HEAD = b"<</Type/DocTimeStamp/Filter/Adobe.PPKLite/SubFilter/ETSI.RFC3161/ByteRange"
_BYTE_RANGE_WIDTH = 48


@dataclass(frozen=True)
class EvidenceDer:
    """What goes into the document security store, DER-encoded."""

    certificates: Sequence[bytes]
    ocsp_responses: Sequence[bytes]
    crls: Sequence[bytes]


def append_dss(pdf: bytes, evidence: EvidenceDer) -> bytes | None:
    """``pdf`` with a revision that adds the document security store (B-LT); None when
    ``pdf`` is not of the shape this module writes for."""
    layout = _read_layout(pdf)
    if layout is None:
        return None
    writer = _RevisionWriter(pdf, layout)
    writer.add_dss(evidence)
    return bytes(writer.finish(os.urandom(16)))


def prepare_timestamped(
    pdf: bytes, evidence: EvidenceDer, *, field_name: str, contents_hex_digits: int
) -> PreparedRevision | None:
    """``pdf`` with a revision that adds the document security store and a document
    timestamp over everything (B-LTA), its ``/Contents`` still zeros; None when ``pdf`` is
    not of the shape this module writes for."""
    layout = _read_layout(pdf)
    if layout is None or not re.fullmatch(r"[A-Za-z0-9_.-]+", field_name):
        return None
    field = field_name.encode("ascii")
    if field == layout.existing_field:
        return None
    writer = _RevisionWriter(pdf, layout)
    return writer.add_timestamp(evidence, b"(" + field + b")", contents_hex_digits, os.urandom(16))


@dataclass(frozen=True)
class _Layout:
    """What the revision needs to know about the signed file's last revision."""

    root: int
    catalog_body: bytes
    """The catalog dictionary's contents, between its ``<<`` and ``>>``."""
    form: int
    widget: int
    """The signature's widget (and field), the form's one entry."""
    existing_field: bytes
    page: int
    """The page the signature's widget is on; the timestamp's goes there too."""
    page_body: bytes
    size: int
    info: int | None
    first_id: bytes
    prev: int
    """Where the signature revision's cross-reference table starts."""


def _read_layout(pdf: bytes) -> _Layout | None:
    tail_at = pdf.rfind(b"trailer\n<<", max(0, len(pdf) - 1024))
    trailer = _TRAILER.match(pdf, tail_at) if tail_at >= 0 else None
    if trailer is None:
        return None
    xref_at = int(trailer.group("xref"))
    offsets = _revision_offsets(pdf, xref_at, tail_at)
    if offsets is None:
        return None
    bodies = ObjectBodies(pdf, offsets, xref_at)
    root = int(trailer.group("root"))
    catalog = bodies.body(root)
    if catalog is None or b"/DSS" in catalog:
        return None
    form_refs = _ACRO_FORM_REF.findall(catalog)
    if len(form_refs) != 1:
        return None
    form = int(form_refs[0])
    form_body = bodies.body(form)
    fields = _FORM.match(form_body) if form_body is not None else None
    if fields is None:
        return None
    widget = int(fields.group(1))
    widget_body = bodies.body(widget)
    if widget_body is None:
        return None
    pages, names = _WIDGET_PAGE.findall(widget_body), _WIDGET_NAME.findall(widget_body)
    if len(pages) != 1 or len(names) != 1:
        return None
    page = int(pages[0])
    page_body = bodies.body(page)
    if page_body is None or page_body.count(b"/Annots") != 1 or _ANNOTS.search(page_body) is None:
        return None
    info = trailer.group("info")
    return _Layout(
        size=int(trailer.group("size")),
        root=root,
        info=int(info) if info is not None else None,
        first_id=bytes.fromhex(trailer.group("id1").decode("ascii")),
        prev=xref_at,
        catalog_body=catalog,
        form=form,
        widget=widget,
        existing_field=names[0],
        page=page,
        page_body=page_body,
    )


def _revision_offsets(pdf: bytes, xref_at: int, trailer_at: int) -> dict[int, int] | None:
    """Each object of the last revision's cross-reference table and where it starts."""
    if not pdf.startswith(_XREF_HEAD, xref_at):
        return None
    offsets: dict[int, int] = {}
    at = xref_at + len(_XREF_HEAD)
    while at < trailer_at:
        head = _SUBSECTION.match(pdf, at)
        if head is None:
            return None
        start, count = int(head.group(1)), int(head.group(2))
        at = head.end()
        for number in range(start, start + count):
            entry = _ENTRY.match(pdf, at)
            if entry is None:
                return None
            offsets[number] = int(entry.group(1))
            at += _ENTRY_BYTES
    return offsets if at == trailer_at else None


# Pure functions of the bytes, and every document of a batch chunk carries the same
# certificates and answers: each is parsed once, not once per document.
@functools.lru_cache(maxsize=256)
def _issuer_serial(certificate_der: bytes) -> bytes:
    certificate = asn1_x509.Certificate.load(certificate_der)
    key: bytes = certificate.issuer.dump() + certificate["tbs_certificate"]["serial_number"].dump()
    return key


@functools.lru_cache(maxsize=64)
def _ocsp_certificates(response_der: bytes) -> tuple[bytes, ...]:
    """The certificates an OCSP response carries (its responder's), which pyHanko adds to
    the store beside the response."""
    response = asn1_ocsp.OCSPResponse.load(response_der)
    status: str = response["response_status"].native
    if status != "successful":
        return ()
    response_bytes = response["response_bytes"]
    if response_bytes["response_type"].native != "basic_ocsp_response":
        return ()
    return tuple(certificate.dump() for certificate in response_bytes["response"].parsed["certs"] or [])


class _RevisionWriter:
    """Appends one revision to the signed file, keeping each object's offset."""

    def __init__(self, pdf: bytes, layout: _Layout) -> None:
        self._layout = layout
        self._out = bytearray(pdf)
        self._offsets: dict[int, int] = {}
        self._next = layout.size
        self._pending: dict[int, bytes] = {}
        """Objects to write, serialised, by number."""

    def _number(self) -> int:
        number = self._next
        self._next += 1
        return number

    def _object(self, number: int, body: bytes) -> None:
        self._pending[number] = b"%d 0 obj\n%s\nendobj\n" % (number, body)

    def _stream(self, data: bytes) -> int:
        number = self._number()
        self._pending[number] = b"%d 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n" % (number, len(data), data)
        return number

    def add_dss(self, evidence: EvidenceDer) -> None:
        certificates: dict[bytes, int] = {}
        for der in evidence.certificates:
            key = _issuer_serial(der)
            if key not in certificates:
                certificates[key] = self._stream(der)
        ocsps = [self._stream(der) for der in dict.fromkeys(evidence.ocsp_responses)]
        crls = [self._stream(der) for der in dict.fromkeys(evidence.crls)]
        for response in evidence.ocsp_responses:
            for der in _ocsp_certificates(response):
                key = _issuer_serial(der)
                if key not in certificates:
                    certificates[key] = self._stream(der)
        dss = self._number()
        body = b"<</Certs" + _references(certificates.values())
        if ocsps:
            body += b"/OCSPs" + _references(ocsps)
        if crls:
            body += b"/CRLs" + _references(crls)
        self._object(dss, body + b">>")
        layout = self._layout
        self._object(layout.root, b"<<" + layout.catalog_body + b"/DSS %d 0 R>>" % dss)

    def add_timestamp(
        self, evidence: EvidenceDer, field: bytes, contents_hex_digits: int, second_id: bytes
    ) -> PreparedRevision:
        layout = self._layout
        self.add_dss(evidence)
        widget, timestamp = self._number(), self._number()
        annots = _ANNOTS.search(layout.page_body)
        assert annots is not None  # checked when reading the layout
        at = annots.start(1)
        self._object(layout.page, b"<<" + layout.page_body[:at] + b" %d 0 R" % widget + layout.page_body[at:] + b">>")
        self._object(layout.form, b"<</Fields[%d 0 R %d 0 R]/SigFlags 3>>" % (layout.widget, widget))
        self._object(widget, _WIDGET % (field, layout.page, timestamp))
        self._write_pending()

        # The timestamp's dictionary comes last (it has the highest number): its byte
        # range is filled in once the file's length is known.
        out = self._out
        self._offsets[timestamp] = len(out)
        out.extend(b"%d 0 obj\n" % timestamp + _TIMESTAMP_HEAD)
        byte_range_at = len(out)
        out.extend(b" " * _BYTE_RANGE_WIDTH)
        # Spaced as pyHanko writes it: tools that find the token by ``/Contents <`` find it.
        out.extend(b"/Contents ")
        contents_start = len(out)
        out.extend(b"<" + b"0" * contents_hex_digits + b">")
        contents_end = len(out)
        out.extend(b">>\nendobj\n")
        self._write_tail(second_id)
        byte_range = b"[0 %d %d %d]" % (contents_start, contents_end, len(out) - contents_end)
        out[byte_range_at : byte_range_at + len(byte_range)] = byte_range
        return PreparedRevision(out, contents_start, contents_end)

    def finish(self, second_id: bytes) -> bytearray:
        self._write_pending()
        self._write_tail(second_id)
        return self._out

    def _write_pending(self) -> None:
        """The objects so far in number order, as pyHanko writes them: the signed file's
        first (their numbers are lower), then the new ones."""
        for number in sorted(self._pending):
            self._offsets[number] = len(self._out)
            self._out.extend(self._pending[number])
        self._pending.clear()

    def _write_tail(self, second_id: bytes) -> None:
        layout, out = self._layout, self._out
        xref_at = len(out)
        out.extend(_XREF_HEAD)
        for start, numbers in xref_subsections(sorted(self._offsets)):
            out.extend(b"%d %d\n" % (start, len(numbers)))
            for number in numbers:
                out.extend(b"%010d 00000 n\r\n" % self._offsets[number])
        out.extend(b"trailer\n<</Size %d/Root %d 0 R" % (self._next, layout.root))
        if layout.info is not None:
            out.extend(b"/Info %d 0 R" % layout.info)
        ids = (layout.first_id.hex().encode(), second_id.hex().encode())
        out.extend(b"/ID[<%s><%s>]/Prev %d>>\n" % (*ids, layout.prev))
        out.extend(b"startxref\n%d\n%%%%EOF\n" % xref_at)


def _references(numbers: Iterable[int]) -> bytes:
    return b"[" + b" ".join(b"%d 0 R" % n for n in numbers) + b"]"
