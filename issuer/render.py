"""Turns a template and validated data into an unsigned PDF/A-3b certificate.

Fonts, stylesheets and Jinja templates are prepared once in
:class:`CertificateRenderer`; a render then only lays out one HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import jinja2
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from issuer.qr import qr_svg
from issuer.templates import LocalizedText, TemplateSpec

#: Name of the embedded machine-readable copy of the certificate.
ATTACHMENT_NAME = "certificate.json"

#: Punjab's calendar: the printed date of issue is the date in India, not in UTC.
IST = timezone(timedelta(hours=5, minutes=30), "IST")


@dataclass(frozen=True)
class IssuerInfo:
    """The issuing office as printed on the certificate and recorded in its JSON."""

    code: str
    """Stable office code, e.g. ``PB-REV-LDH``."""
    name: LocalizedText
    """Office name in English, Punjabi and Hindi."""


def format_inr(amount: int) -> str:
    """Group digits the Indian way: last three, then pairs (``2,40,000``)."""
    sign, digits = ("-", str(-amount)) if amount < 0 else ("", str(amount))
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([*groups, tail])


def format_date(day: date) -> str:
    """Print a date as Indian offices do: ``DD-MM-YYYY``."""
    return day.strftime("%d-%m-%Y")


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _Prepared:
    template: jinja2.Template
    stylesheet: CSS
    base_url: str


class CertificateRenderer:
    """Renders certificates for a fixed set of templates; build once at start-up."""

    def __init__(self, templates: Mapping[str, TemplateSpec]) -> None:
        # One font configuration for all stylesheets: WeasyPrint registers each
        # @font-face once, and all documents share the parsed fonts.
        self._font_config = FontConfiguration()
        # Fonts must come from the template tree, never the network; a missing font
        # file stops start-up instead of silently falling back to a system font.
        css_fetcher = URLFetcher(allowed_protocols=("file",), fail_on_errors=True)
        # The HTML has no external resources at all (the QR code is inline SVG).
        self._html_fetcher = URLFetcher(allowed_protocols=())
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(sorted({str(s.directory.parent) for s in templates.values()})),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )
        self._env.filters["inr"] = format_inr
        self._env.filters["dmy"] = format_date
        self._prepared: dict[str, _Prepared] = {}
        for doc_type, spec in templates.items():
            self._prepared[doc_type] = _Prepared(
                template=self._env.get_template(f"{spec.directory.name}/template.html"),
                stylesheet=CSS(
                    filename=spec.directory / "style.css",
                    font_config=self._font_config,
                    url_fetcher=css_fetcher,
                ),
                base_url=(spec.directory / "template.html").as_uri(),
            )

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
    ) -> bytes:
        """Return the certificate as PDF/A-3b bytes with ``certificate.json`` attached.

        ``data`` must already have passed :func:`issuer.templates.validate_data`;
        ``issued_at`` must be timezone-aware. Equal arguments give identical bytes.
        """
        if issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware")
        prepared = self._prepared.get(spec.type)
        if prepared is None:
            raise KeyError(f"renderer was not built with template {spec.type!r}")

        issued_utc = issued_at.astimezone(UTC).replace(microsecond=0)
        html = prepared.template.render(
            spec=spec,
            data=data,
            issuer=issuer,
            document_id=document_id,
            verify_url=verify_url,
            qr=Markup(qr_svg(verify_url)),  # noqa: S704 - our own SVG, URL not embedded
            issued_on=issued_at.astimezone(IST).date(),
            valid_until=valid_until,
            created=issued_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        payload = {
            "document_id": document_id,
            "type": spec.type,
            "issuer": {
                "code": issuer.code,
                "name": {"en": issuer.name.en, "pa": issuer.name.pa, "hi": issuer.name.hi},
            },
            "issued_at": _utc_iso(issued_at),
            "valid_until": valid_until.isoformat() if valid_until else None,
            "data": dict(data),
        }
        attachment = Attachment(
            string=json.dumps(payload, ensure_ascii=False, indent=2),
            name=ATTACHMENT_NAME,
            description="Machine-readable certificate data",
            relationship="Data",
            # Fixed dates (not "now") keep the output reproducible.
            created=issued_utc,
            modified=issued_utc,
        )
        pdf = HTML(
            string=html, base_url=prepared.base_url, url_fetcher=self._html_fetcher
        ).write_pdf(
            stylesheets=[prepared.stylesheet],
            font_config=self._font_config,
            pdf_variant="pdf/a-3b",
            attachments=[attachment],
        )
        assert isinstance(pdf, bytes)
        return pdf

