"""The XML messages of DigiLocker's Issuer API (v3.0): reading ``PullURIRequest`` and
``PullDocRequest``, writing ``PullURIResponse`` and ``PullDocResponse``.

Requests come from outside, so they are parsed by defusedxml with every DTD, entity and
external reference refused: an entity expansion (billion laughs) or an external entity
(XXE) is never resolved, it is a refusal. Responses are built as element trees, so no
value can break out of its element."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET  # writing only; requests are read by defusedxml
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import defusedxml
from defusedxml.ElementTree import fromstring

PULL_URI_REQUEST = "PullURIRequest"
PULL_DOC_REQUEST = "PullDocRequest"
FORMATS = ("xml", "pdf", "both")
#: Elements in DocDetails: the spec's dozen plus user-defined fields, far fewer than this.
MAX_DETAILS = 40
_NAMESPACE = "http://tempuri.org/"


class Status(StrEnum):
    """``ResponseStatus/@Status``."""

    FOUND = "1"
    NOT_FOUND = "0"
    PENDING = "9"
    """The certificate is still being decided (its application is in intake)."""


class MalformedRequest(Exception):
    """The body is not a pull request DigiLocker would send; ``str()`` says why."""


class ForbiddenXml(MalformedRequest):
    """A DTD, an entity or an external reference: refused, never expanded."""


@dataclass(frozen=True)
class PullRequest:
    kind: str
    """``PullURIRequest`` or ``PullDocRequest``."""
    ver: str
    ts: str
    txn: str
    org_id: str
    format: str
    """xml, pdf or both (pdf when absent, as the spec says)."""
    details: dict[str, str] = field(default_factory=dict)
    """``DocDetails``' children by name: DocType, DigiLockerId, UID, FullName, DOB, Photo,
    URI, UDF1…UDFn and whatever search elements the portal was configured with."""

    @property
    def wants_pdf(self) -> bool:
        return self.format in ("pdf", "both")

    @property
    def wants_data(self) -> bool:
        return self.format in ("xml", "both")


def _local(tag: Any) -> str:
    name = str(tag)
    return name.rsplit("}", 1)[-1]


def parse_request(body: bytes) -> PullRequest:
    """Read a pull request; raises :class:`MalformedRequest` (or :class:`ForbiddenXml`)."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as e:
        raise ForbiddenXml("DTDs, entities and external references are not accepted") from e
    except ET.ParseError as e:
        raise MalformedRequest(f"not well-formed XML ({e})") from e
    kind = _local(root.tag)
    if kind not in (PULL_URI_REQUEST, PULL_DOC_REQUEST):
        raise MalformedRequest(f"expected PullURIRequest or PullDocRequest, got {kind[:40]}")
    attributes = {_local(k): v for k, v in root.attrib.items()}
    missing = [name for name in ("ver", "ts", "txn", "orgId") if not attributes.get(name, "").strip()]
    if missing:
        raise MalformedRequest(f"missing attribute(s): {', '.join(missing)}")
    fmt = attributes.get("format", "pdf").strip().lower() or "pdf"
    if fmt not in FORMATS:
        raise MalformedRequest("format must be xml, pdf or both")
    holders = [child for child in root if _local(child.tag) == "DocDetails"]
    if len(holders) != 1:
        raise MalformedRequest("expected exactly one DocDetails element")
    children = list(holders[0])
    if len(children) > MAX_DETAILS:
        raise MalformedRequest(f"DocDetails has more than {MAX_DETAILS} elements")
    details: dict[str, str] = {}
    for child in children:
        name = _local(child.tag)
        if name in details:
            raise MalformedRequest(f"DocDetails/{name[:40]} appears twice")
        details[name] = (child.text or "").strip()
    return PullRequest(
        kind=kind,
        ver=attributes["ver"].strip(),
        ts=attributes["ts"].strip(),
        txn=attributes["txn"].strip(),
        org_id=attributes["orgId"].strip(),
        format=fmt,
        details=details,
    )


@dataclass(frozen=True)
class PullAnswer:
    """What a pull request is answered with."""

    status: Status
    uri: str | None = None
    pdf: bytes | None = None
    data_xml: bytes | None = None
    issued_to: dict[str, str] | None = None
    """Name, date of birth, gender, phone as the certificate has them (Pull URI only), so
    DigiLocker can match names on its side too."""
    reason: str | None = None
    """Why the answer is 0 (or 9): for the operator's log and the ``X-Sanad-Reason`` header."""


def build_response(kind: str, ts: str, txn: str, answer: PullAnswer) -> bytes:
    """``PullURIResponse`` (for a ``PullURIRequest``) or ``PullDocResponse``."""
    response_kind = "PullURIResponse" if kind == PULL_URI_REQUEST else "PullDocResponse"
    root = ET.Element(response_kind, {"xmlns:ns2": _NAMESPACE})
    status = ET.SubElement(root, "ResponseStatus", {"Status": answer.status.value, "ts": ts, "txn": txn})
    status.text = answer.status.value
    details = ET.SubElement(root, "DocDetails")
    if answer.issued_to and kind == PULL_URI_REQUEST:
        persons = ET.SubElement(ET.SubElement(details, "IssuedTo"), "Persons")
        ET.SubElement(persons, "Person", {k: v for k, v in answer.issued_to.items() if v})
    if answer.uri is not None and kind == PULL_URI_REQUEST:  # a Pull Doc request already names it
        ET.SubElement(details, "URI").text = answer.uri
    if answer.pdf is not None:
        ET.SubElement(details, "DocContent").text = base64.b64encode(answer.pdf).decode("ascii")
    if answer.data_xml is not None:
        ET.SubElement(details, "DataContent").text = base64.b64encode(answer.data_xml).decode("ascii")
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written
