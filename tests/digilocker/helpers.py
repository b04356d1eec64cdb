"""DigiLocker test helpers: a department registered on the partner portal, and pull
requests built from the specification's own samples, signed as DigiLocker signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from digilocker.configuration import configure
from sanad.models import Department
from tests.conftest import Backend

SAMPLES = Path(__file__).parent / "samples"
INDIA = ZoneInfo("Asia/Kolkata")


@dataclass(frozen=True)
class Partner:
    department_id: int
    department_code: str
    issuer_id: str
    api_key: str
    client_id: str
    client_secret: str


def register(
    backend: Backend,
    department: Department,
    *,
    search_fields: dict[str, str] | None = None,
    doc_types: dict[str, str] | None = None,
    partner_url: str | None = None,
    pushing: bool | None = None,
    apisetu: bool = False,
) -> Partner:
    """Register ``department``; with push credentials when ``partner_url`` (a stand-in)
    is given, so no test pushes towards the real DigiLocker. ``apisetu``: with the client
    id API Setu's gateway presents but no secret, so nothing is queued to push."""
    pushing = partner_url is not None if pushing is None else pushing
    partner = Partner(
        department_id=department.id,
        department_code=department.code,
        issuer_id=f"in.gov.punjab.{secrets.token_hex(4)}",
        api_key=secrets.token_urlsafe(24),
        client_id=f"CLIENT{secrets.token_hex(4).upper()}",
        client_secret=secrets.token_urlsafe(24),
    )
    with backend.context.sessions() as s:
        configure(
            s,
            backend.settings.secret_key,
            s.get(Department, department.id),  # type: ignore[arg-type]
            issuer_id=partner.issuer_id,
            api_key=partner.api_key,
            client_id=partner.client_id if pushing or apisetu else None,
            client_secret=partner.client_secret if pushing else None,
            doc_types=doc_types,
            search_fields=search_fields,
            partner_url=partner_url,
        )
        s.commit()
    return partner


def now_ts() -> str:
    return datetime.now(UTC).astimezone(INDIA).replace(microsecond=0).isoformat()


def _from_sample(
    sample: str, org_id: str, details: dict[str, str | None], ts: str | None, txn: str | None, fmt: str
) -> bytes:
    root = ET.fromstring((SAMPLES / sample).read_bytes())  # noqa: S314 (our own sample file)
    root.set("orgId", org_id)
    root.set("ts", ts if ts is not None else now_ts())
    root.set("txn", txn if txn is not None else secrets.token_hex(8))
    root.set("format", fmt)
    holder = root.find("DocDetails")
    assert holder is not None
    for name, value in details.items():
        element = holder.find(name)
        if value is None:
            if element is not None:
                holder.remove(element)
            continue
        if element is None:
            element = ET.SubElement(holder, name)
        element.text = value
    written: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return written


def pull_uri_body(
    partner: Partner,
    *,
    number: str,
    mobile: str | None,
    full_name: str | None,
    doc_type: str = "INCER",
    dob: str | None = None,
    digilocker_id: str | None = "123e4567-e89b-12d3-a456-426655440000",
    ts: str | None = None,
    txn: str | None = None,
    fmt: str = "both",
) -> bytes:
    details = {
        "DocType": doc_type,
        "DigiLockerId": digilocker_id,
        "FullName": full_name,
        "DOB": dob,
        "UDF1": number,
        "UDF2": mobile,
        "UID": None,
        "Photo": None,
    }
    return _from_sample("pull_uri_request.xml", partner.issuer_id, details, ts, txn, fmt)


def pull_doc_body(
    partner: Partner,
    uri: str,
    *,
    digilocker_id: str | None = "123e4567-e89b-12d3-a456-426655440000",
    ts: str | None = None,
    txn: str | None = None,
    fmt: str = "both",
) -> bytes:
    details = {"URI": uri, "DigiLockerId": digilocker_id, "UID": None, "FullName": None, "DOB": None}
    return _from_sample("pull_doc_request.xml", partner.issuer_id, details, ts, txn, fmt)


def hmac_header(body: bytes, key: str, *, hex_form: bool = False) -> dict[str, str]:
    digest = hmac.new(key.encode(), body, hashlib.sha256)
    raw = digest.hexdigest().encode() if hex_form else digest.digest()
    return {"x-digilocker-hmac": base64.b64encode(raw).decode(), "Content-Type": "application/xml"}


@dataclass(frozen=True)
class Answer:
    status: str
    ts: str
    txn: str
    uri: str | None
    doc_content: bytes | None
    data_content: bytes | None
    root: ET.Element


def read_answer(xml: bytes) -> Answer:
    root = ET.fromstring(xml)  # noqa: S314 (our own answer)
    status = root.find("ResponseStatus")
    assert status is not None
    details = root.find("DocDetails")
    assert details is not None

    def text(name: str) -> str | None:
        element = details.find(name)
        return None if element is None else element.text

    doc, data = text("DocContent"), text("DataContent")
    return Answer(
        status=status.get("Status", ""),
        ts=status.get("ts", ""),
        txn=status.get("txn", ""),
        uri=text("URI"),
        doc_content=base64.b64decode(doc) if doc else None,
        data_content=base64.b64decode(data) if data else None,
        root=root,
    )


def shape(element: ET.Element, path: str = "") -> set[str]:
    """Every element path and attribute name under ``element``: a message's structure."""
    here = f"{path}/{element.tag}"
    paths = {here} | {f"{here}@{name}" for name in element.attrib}
    for child in element:
        paths |= shape(child, here)
    return paths
