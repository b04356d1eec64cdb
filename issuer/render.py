"""Turns a template and validated data into an unsigned PDF/A-3b certificate, tagged
for accessibility (PDF/UA-1: ``issuer.pdf_ua``).

Fonts, stylesheets and Jinja templates are prepared once in
:class:`CertificateRenderer`; a render then only lays out one HTML page.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import jinja2
import pydyf  # type: ignore[import-untyped]
import weasyprint.draw.text
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from issuer.exceptions import TemplateError
from issuer.pdf_ua import declare_pdf_ua, install_language_tags, with_alt_text
from issuer.qr import qr_image
from issuer.templates import TemplateSpec
from sanad.clock import today_in_india
from sanad.i18n import LocalizedText

#: Name of the embedded machine-readable copy of the certificate.
ATTACHMENT_NAME = "certificate.json"


@dataclass(frozen=True)
class IssuerInfo:
    """The issuing office as printed on the certificate and recorded in its JSON."""

    code: str
    """Stable office code, e.g. ``PB-REV-LDH-W``."""
    name: LocalizedText
    """Office name in English, Punjabi and Hindi."""


def format_inr(amount: int) -> str:
    """Group digits the Indian way: last three, then pairs (``2,40,000``)."""
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
) -> bytes:
    """The embedded ``certificate.json``: UTF-8, exactly the bytes attached (and hashed
    by the seal). Equal arguments give equal bytes."""
    payload = {
        "document_id": document_id,
        "type": spec.type,
        "issuer": {
            "code": issuer.code,
            "name": {"en": issuer.name.en, "pa": issuer.name.pa, "hi": issuer.name.hi},
        },
        "issued_at": issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "data": dict(data),
    }
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")


@dataclass(frozen=True)
class _Prepared:
    template: jinja2.Template
    stylesheet: Any  # weasyprint.CSS, untyped
    base_url: str


class CertificateRenderer:
    """Renders certificates for a fixed set of templates; build once at start-up."""

    def __init__(self, templates: Mapping[str, TemplateSpec]) -> None:
        _install_actual_text()
        install_language_tags()
        # One font configuration shared by every stylesheet and document: WeasyPrint
        # registers each @font-face once and keeps the parsed fonts.
        self._font_config = FontConfiguration()
        # Fonts come from the template tree only; a missing font file stops start-up
        # instead of silently falling back to whatever fonts the machine has.
        css_fetcher = URLFetcher(allowed_protocols=("file",), fail_on_errors=True)
        # Certificates have no external resources (the QR code is an inline data: image):
        # never touch the network or the file system while rendering one.
        self._html_fetcher = URLFetcher(allowed_protocols=("data",))
        loader = jinja2.FileSystemLoader(sorted({str(s.directory.parent) for s in templates.values()}))
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )
        env.filters["inr"] = format_inr
        env.filters["dmy"] = format_date
        self._prepared: dict[str, _Prepared] = {}
        for doc_type, spec in templates.items():
            stylesheet = spec.directory / "style.css"
            try:
                css = CSS(filename=stylesheet, font_config=self._font_config, url_fetcher=css_fetcher)
            except FatalURLFetchingError as exc:  # a BaseException: turn it into a normal error
                raise TemplateError(f"{stylesheet}: {exc}: {exc.__cause__}") from exc
            self._prepared[doc_type] = _Prepared(
                template=env.get_template(f"{spec.directory.name}/template.html"),
                stylesheet=css,
                base_url=(spec.directory / "template.html").as_uri(),
            )
        # WeasyPrint is not documented as thread-safe and the font configuration is
        # shared. Rendering is CPU-bound Python, so threads would not run it in
        # parallel anyway: scale with processes.
        self._lock = threading.Lock()

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
    ) -> bytes:
        """Return the certificate as PDF/A-3b and PDF/UA-1 with ``certificate.json`` attached.

        ``data`` must have passed :func:`issuer.templates.validate_data`; ``issued_at``
        must be timezone-aware. Equal arguments give byte-identical output (dates in
        the file come from ``issued_at``, the file ID from its content).

        ``verify_url`` is what the QR code and its link carry; a fragment (the seal) is
        left out of the URL printed under the code. ``attachment`` is the exact
        ``certificate.json`` to embed, as :func:`certificate_json` made it (the seal
        hashes those bytes); made here from the same arguments when omitted.
        """
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        prepared = self._prepared.get(spec.type)
        if prepared is None:
            raise KeyError(f"renderer was not built with template {spec.type!r}")

        issued_utc = issued_at.astimezone(UTC)
        html = prepared.template.render(
            spec=spec,
            data=data,
            issuer=issuer,
            document_id=document_id,
            verify_url=verify_url.partition("#")[0],
            qr_url=verify_url,
            # Our own markup; the URL is not in it (only the symbol's pixels).
            qr=Markup(with_alt_text(qr_image(verify_url))),  # noqa: S704
            issued_on=today_in_india(issued_at),  # the date in India, not in UTC
            valid_until=valid_until,
            created=issued_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        if attachment is None:
            attachment = certificate_json(
                spec, document_id=document_id, data=data, issuer=issuer, issued_at=issued_at, valid_until=valid_until
            )
        embedded = Attachment(
            string=attachment,
            name=ATTACHMENT_NAME,
            description="Machine-readable certificate data",
            relationship="Data",
            # WeasyPrint would stamp "now"; the issue time keeps output reproducible.
            created=issued_utc,
            modified=issued_utc,
        )
        with self._lock:
            document = HTML(string=html, base_url=prepared.base_url, url_fetcher=self._html_fetcher)
            pdf: bytes = document.write_pdf(
                stylesheets=[prepared.stylesheet],
                font_config=self._font_config,
                pdf_variant="pdf/a-3b",
                # Tagged (structure, reading order, alt text, languages): PDF/UA-1 as well.
                pdf_tags=True,
                finisher=declare_pdf_ua,
                attachments=[embedded],
            )
        return pdf


# --- extractable Indic text ------------------------------------------------------------
#
# A PDF maps each glyph to text once per font (ToUnicode). Gurmukhi and Devanagari
# clusters are reordered and merged when shaped (sihari ਿ is drawn before its
# consonant, conjuncts become one glyph), so glyph-by-glyph mapping cannot give back
# the typed text: WeasyPrint's output extracted ਸਿੰਘ as ਸੰਘ. The PDF answer is an
# /ActualText span giving the logical text of what it encloses; pdftotext, Acrobat and
# screen readers use it. WeasyPrint 70 has no option for it, so wrap the function that
# draws one line of a text box. Installed once, by the renderer, not at import.

_COMPLEX_SCRIPT = re.compile("[\u0900-\u0dff]")  # the Indic blocks, Devanagari to Sinhala


def _install_actual_text() -> None:
    module = weasyprint.draw.text
    original: Callable[..., Any] = module.draw_first_line
    if getattr(original, "_sanad_actual_text", False):
        return

    def draw_first_line(stream: Any, textbox: Any, *args: Any, **kwargs: Any) -> Any:
        text = textbox.text
        if not _COMPLEX_SCRIPT.search(text):
            return original(stream, textbox, *args, **kwargs)
        stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(text)}))
        try:
            return original(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()

    draw_first_line._sanad_actual_text = True  # type: ignore[attr-defined]
    module.draw_first_line = draw_first_line
