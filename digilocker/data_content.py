"""``DataContent``: a certificate's data as XML, for DigiLocker's machine-readable copy."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # writing only
from datetime import date

from issuer.models import Document
from issuer.templates import TemplateSpec


def certificate_xml(document: Document, spec: TemplateSpec, uri: str, status: str, issuer_code: str) -> bytes:
    """``<Certificate>`` with the registry's facts as attributes and every data field as
    ``<Field name="…">``: field names come from the template, so they are values here,
    never element names."""
    valid_until: date | None = document.valid_until
    root = ET.Element(
        "Certificate",
        {
            "uri": uri,
            "number": document.id,
            "type": document.type,
            "name": spec.title.en,
            "issuer": issuer_code,
            "issuedAt": document.issued_at.isoformat(),
            "validUntil": valid_until.isoformat() if valid_until else "",
            "status": status,
            "sha256": document.sha256,
        },
    )
    fields = ET.SubElement(root, "Data")
    for field in spec.fields:
        if field.name in document.data:
            ET.SubElement(fields, "Field", {"name": field.name, "type": field.type}).text = str(
                document.data[field.name]
            )
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written
