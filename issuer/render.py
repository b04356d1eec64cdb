"""Turns a template and validated data into an unsigned certificate with Typst: PDF/A-3b
and tagged PDF/UA-1 in one pass, its ``certificate.json`` attached by the template's frame.

One :class:`typst.Compiler` serves every template of the process and keeps the parsed
fonts, templates and images between documents, so a render lays out one page (~15 ms of
CPU; the HTML/CSS templates it replaced took ~60 ms with WeasyPrint: bench/RESULTS.md).

A document's values reach the template as a JSON file in memory, never as markup: the
template reads them as strings and numbers, so a name such as ``#panic()`` or ``]``
prints exactly as typed. They travel as files, not as ``sys.inputs``: new inputs are a
new standard library to Typst, which then evaluates and lays out everything again, while
a changed file redoes only what read it (~20% less CPU a certificate). Fonts come only
from ``templates/fonts``: neither the machine's fonts nor the ones built into Typst are
seen.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import typst
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from issuer.exceptions import TemplateError
from issuer.qr import qr_png
from issuer.templates import TEMPLATE_FILE, TemplateSpec
from sanad.clock import today_in_india
from sanad.errors import FieldError, InvalidInput
from sanad.i18n import LocalizedText

#: Name of the embedded machine-readable copy of the certificate.
ATTACHMENT_NAME = "certificate.json"
#: What the templates print with: Latin, Gurmukhi and Devanagari (templates/fonts/README.md).
FONT_FAMILIES = ("Noto Serif", "Noto Serif Gurmukhi", "Noto Serif Devanagari")
#: Written in one pass: archival (with the attachment PDF/A-3 allows) and accessible.
PDF_STANDARDS: list[typst.PDFStandard] = ["a-3b", "ua-1"]
#: The in-memory files a render adds to the templates' root: the values the frame's
#: ``inputs()`` reads, and the exact bytes it attaches (templates/_shared/certificate.typ).
VALUES_FILE = "input/certificate.json"
ATTACHMENT_FILE = "input/attachment.json"


@dataclass(frozen=True)
class IssuerInfo:
    """The issuing office as printed on the certificate and recorded in its JSON."""

    code: str
    """Stable office code, e.g. ``PB-REV-LDH-W``."""
    name: LocalizedText
    """Office name in English, Punjabi and Hindi."""
    issued_by: Mapping[str, object] | None = None
    """The office and officer named as issuing it (``IssuedBy.printed``): ``office`` and
    ``designation`` as ``{en, pa}``, ``officer`` a name; ``None``: the department's name."""


def format_inr(amount: int) -> str:
    """Group digits the Indian way: last three, then pairs (``2,40,000``); the templates'
    ``inr`` does the same in Typst."""
    sign, digits = ("-", str(-amount)) if amount < 0 else ("", str(amount))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([*groups, tail])


def format_date(day: date) -> str:
    """Print a date as Indian offices do: ``DD-MM-YYYY``."""
    return day.strftime("%d-%m-%Y")


def certificate_json(
    spec: TemplateSpec,
    *,
    document_id: str,
    data: Mapping[str, object],
    issuer: IssuerInfo,
    issued_at: datetime,
    valid_until: date | None,
    number: str | None = None,
) -> bytes:
    """The embedded ``certificate.json``: UTF-8, exactly the bytes attached (and hashed
    by the seal). Equal arguments give equal bytes. ``number`` is the printed certificate
    number (absent from documents issued before numbers were printed)."""
    payload = {
        "document_id": document_id,
        **({"number": number} if number is not None else {}),
        "type": spec.type,
        "issuer": {
            "code": issuer.code,
            "name": {"en": issuer.name.en, "pa": issuer.name.pa, "hi": issuer.name.hi},
            **({"issued_by": dict(issuer.issued_by)} if issuer.issued_by else {}),
        },
        "issued_at": issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "data": dict(data),
    }
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")


class CertificateRenderer:
    """Renders certificates for a fixed set of templates; build once at start-up.

    Building renders each template's ``example.json`` once: a template that does not
    compile, or prints with a warning (an unknown font, a missing glyph), stops start-up.
    """

    def __init__(self, templates: Mapping[str, TemplateSpec]) -> None:
        if not templates:
            raise ValueError("no templates to render")
        # The templates' common parent is the compiler's root: Typst reads no file
        # outside it (the frame in _shared/ and the fonts are inside).
        root = _common_parent([spec.directory for spec in templates.values()])
        fonts_dir = root / "fonts"
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(fonts_dir)])
        if missing := sorted(set(FONT_FAMILIES) - set(fonts.families())):
            raise TemplateError(f"{fonts_dir}: fonts missing: {', '.join(missing)}")
        self._compiler = typst.Compiler(root=str(root), font_paths=fonts, ignore_system_fonts=True)
        self._printable = _printable_characters(fonts_dir)
        self._mains = {doc_type: _main_source(root, spec) for doc_type, spec in templates.items()}
        # A Compiler is one mutable world (its caches, the current inputs): one render at
        # a time. Typst runs without the GIL, so other threads carry on meanwhile.
        self._lock = threading.Lock()
        for spec in templates.values():
            self._check(spec)

    def render(
        self,
        spec: TemplateSpec,
        *,
        document_id: str,
        verify_url: str,
        data: Mapping[str, object],
        issuer: IssuerInfo,
        issued_at: datetime,
        valid_until: date | None,
        attachment: bytes | None = None,
        number: str | None = None,
    ) -> bytes:
        """Return the certificate as PDF/A-3b and PDF/UA-1 with ``certificate.json`` attached.

        ``data`` must have passed :func:`issuer.templates.validate_data`; ``issued_at``
        must be timezone-aware. Equal arguments give byte-identical output (the file's
        dates are ``issued_at``).

        ``verify_url`` is what the QR code and its link carry; a fragment (the seal) is
        left out of the URL printed under the code. ``number`` is the certificate number
        printed for people (:mod:`issuer.numbers`); without one the document id is printed
        in its place. ``attachment`` is the exact
        ``certificate.json`` to embed, as :func:`certificate_json` made it (the seal
        hashes those bytes); made here from the same arguments when omitted.
        """
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        main = self._mains.get(spec.type)
        if main is None:
            raise KeyError(f"renderer was not built with template {spec.type!r}")
        if problems := self.unprintable(data) + self.unprintable(_texts(issuer.issued_by), prefix="issued_by"):
            raise InvalidInput(problems)
        if attachment is None:
            attachment = certificate_json(
                spec,
                document_id=document_id,
                number=number,
                data=data,
                issuer=issuer,
                issued_at=issued_at,
                valid_until=valid_until,
            )
        document = _Document(document_id, verify_url, data, issuer, issued_at, valid_until, attachment, number)
        files = _files(main, spec, document)
        with self._lock:
            try:
                # typst-py takes a dict of in-memory files (its stub names only paths and bytes).
                pdf = self._compiler.compile(  # type: ignore[type-var]
                    input=files,
                    format="pdf",
                    pdf_standards=PDF_STANDARDS,
                    # The file's dates (whole seconds, as PDF dates are): equal inputs, equal bytes.
                    timestamp=issued_at.astimezone(UTC).replace(microsecond=0),
                )
            except typst.TypstError as exc:  # a template's fault: a server error
                raise RuntimeError(f"{spec.directory / TEMPLATE_FILE}: {exc.message}") from exc
        if not isinstance(pdf, bytes):  # a list only for one image per page
            raise TypeError("Typst returned no PDF")
        # Typst ends the file right after %%EOF; the signature is an incremental update
        # appended to it, whose first "obj" must start a line (PDF/A, ISO 19005 6.1.9).
        return pdf if pdf.endswith(b"\n") else pdf + b"\n"

    def unprintable(self, data: Mapping[str, object], *, prefix: str = "data") -> list[FieldError]:
        """The text fields of ``data`` holding characters none of the fonts has (a name in
        Tamil, an emoji), one error each. A PDF/A file cannot show a character without its
        glyph, and fonts are never taken from the machine."""
        problems = []
        for name, value in data.items():
            if isinstance(value, str) and (missing := sorted(set(value) - self._printable)):
                shown = " ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
                message = f"cannot be printed: no font for {shown} (Gurmukhi, Devanagari and Latin letters only)"
                problems.append(FieldError(f"{prefix}.{name}", message))
        return problems

    def _check(self, spec: TemplateSpec) -> None:
        """Render the template's example, if it has one, refusing any warning."""
        example = spec.directory / "example.json"
        if not example.is_file():
            return
        office = IssuerInfo("EXAMPLE", LocalizedText(en="Office", pa="ਦਫ਼ਤਰ", hi="कार्यालय"))
        data = json.loads(example.read_text("utf-8"))["data"]
        now = datetime.now(UTC)
        example_document = _Document(
            "example", "HTTP://EXAMPLE/V/EXAMPLE", data, office, now, now.date(), b"{}", "PB-EX-EXA-C-2026-000001"
        )
        files = _files(self._mains[spec.type], spec, example_document)
        source = spec.directory / TEMPLATE_FILE
        with self._lock:
            try:
                _, warnings = self._compiler.compile_with_warnings(  # type: ignore[type-var]
                    input=files,
                    format="pdf",
                    pdf_standards=PDF_STANDARDS,
                )
            except typst.TypstError as exc:
                raise TemplateError(f"{source}: {exc.message}: {exc.diagnostic}") from exc
        if warnings:
            raise TemplateError(f"{source}: " + "; ".join(w.message for w in warnings))


@dataclass(frozen=True)
class _Document:
    """One certificate's values, as :meth:`CertificateRenderer.render` takes them."""

    document_id: str
    verify_url: str
    data: Mapping[str, object]
    issuer: IssuerInfo
    issued_at: datetime
    valid_until: date | None
    attachment: bytes
    number: str | None = None


def _main_source(root: Path, spec: TemplateSpec) -> bytes:
    """The document Typst compiles: the template, included by its path under ``root``
    (written as a Typst string literal)."""
    path = "/" + (spec.directory / TEMPLATE_FILE).relative_to(root).as_posix()
    literal = path.replace("\\", "\\\\").replace('"', '\\"')
    return f'#include "{literal}"\n'.encode()


def _files(main: bytes, spec: TemplateSpec, document: _Document) -> dict[str, bytes]:
    """The in-memory files of one render: the main document, the values and the attachment."""
    return {
        "main.typ": main,
        VALUES_FILE: _values_json(spec, document),
        # Read by the frame as bytes: exactly the attachment given.
        ATTACHMENT_FILE: document.attachment,
    }


def _values(spec: TemplateSpec, document: _Document) -> dict[str, object]:
    """The certificate's values, as the frame's ``inputs()`` gives them to a template."""
    issuer, url = document.issuer, document.verify_url
    return {
        "title": {"en": spec.title.en, "pa": spec.title.pa, "hi": spec.title.hi},
        "document_id": document.document_id,
        # What the certificate prints as its number: the readable one, else the id.
        "number": document.number or document.document_id,
        "issued_on": format_date(today_in_india(document.issued_at)),  # the date in India, not in UTC
        "valid_until": format_date(document.valid_until) if document.valid_until else None,
        "issuer": {"code": issuer.code, "name": {"en": issuer.name.en, "pa": issuer.name.pa, "hi": issuer.name.hi}},
        "issued_by": dict(issuer.issued_by) if issuer.issued_by else None,
        "verify_url": url.partition("#")[0],  # printed under the code: without the seal
        "qr_url": url,
        "data": dict(document.data),
    }


#: Each byte value as JSON writes it.
_BYTE_TEXTS = [str(value) for value in range(256)]


def _values_json(spec: TemplateSpec, document: _Document) -> bytes:
    """:func:`_values` as JSON, with ``qr_png``: the code's PNG as an array of its bytes,
    since a file given to Typst in memory must be UTF-8 text. The array is joined from
    ready-made texts: ``json.dumps`` took ~0.2 ms a document over its ~1,400 integers."""
    values = json.dumps(_values(spec, document), ensure_ascii=False, separators=(",", ":"))
    png = ",".join(map(_BYTE_TEXTS.__getitem__, qr_png(document.verify_url)))
    return f'{values[:-1]},"qr_png":[{png}]}}'.encode()


def _texts(issued_by: Mapping[str, object] | None) -> dict[str, object]:
    """``issued_by``'s texts by their dotted names (``office.pa``), to check they print."""
    found: dict[str, object] = {}
    for key, value in (issued_by or {}).items():
        if isinstance(value, Mapping):
            found.update({f"{key}.{language}": text for language, text in value.items()})
        else:
            found[key] = value
    return found


def _printable_characters(fonts_dir: Path) -> frozenset[str]:
    """Every character some font in ``fonts_dir`` has a glyph for."""
    characters: set[str] = set()
    for path in sorted(fonts_dir.glob("*.ttf")):
        with TTFont(path, lazy=True) as font:
            characters.update(map(chr, font.getBestCmap()))
    return frozenset(characters)


def _common_parent(directories: list[Path]) -> Path:
    parents = {directory.resolve().parent for directory in directories}
    if len(parents) != 1:
        raise TemplateError(f"templates must share one directory (with fonts/ and _shared/): {sorted(parents)}")
    return parents.pop()
