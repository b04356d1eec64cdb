"""A department's DigiLocker registration: its issuer id, the pull API key, the push
client, its doc type codes and which request elements carry which search field."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from digilocker import repository
from digilocker.credentials import seal, unseal
from digilocker.doctypes import DOC_TYPE_PATTERN, doc_types_for
from digilocker.models import DigilockerIssuer
from sanad.errors import FieldError, InvalidInput
from sanad.models import Department

SEARCH_MEANINGS = ("certificate_number", "mobile")
"""What a search element may carry: the certificate's number (or the number of the
application that leads to it), and the holder's mobile number."""
DEFAULT_SEARCH_FIELDS = {"UDF1": "certificate_number", "UDF2": "mobile"}
MIN_API_KEY_CHARS = 16
PRODUCTION_PARTNER_URL = "https://api.digitallocker.gov.in"
"""DigiLocker's partner API; its sandbox is another address (``--partner-url``)."""


@dataclass(frozen=True)
class PartnerRegistration:
    """A department's registration, with its secrets opened (never logged or printed)."""

    department_id: int
    issuer_id: str
    api_key: str
    client_id: str | None
    client_secret: str | None
    partner_url: str
    doc_types: dict[str, str]
    """Template type → doc type code (defaults and overrides together)."""
    search_fields: dict[str, str]

    def __repr__(self) -> str:  # the secrets stay out of any log line or traceback
        return f"PartnerRegistration(issuer_id={self.issuer_id!r}, client_id={self.client_id!r})"


def _check(issuer_id: str, api_key: str, doc_types: dict[str, str], search_fields: dict[str, str]) -> None:
    problems = []
    if not issuer_id or len(issuer_id) > 100 or any(c.isspace() for c in issuer_id):
        problems.append(FieldError("issuer_id", "must be the issuer id the partner portal assigned, without spaces"))
    if len(api_key) < MIN_API_KEY_CHARS:
        problems.append(FieldError("api_key", f"must be at least {MIN_API_KEY_CHARS} characters"))
    for template, code in doc_types.items():
        if not DOC_TYPE_PATTERN.match(code):
            problems.append(FieldError(f"doc_type.{template}", "must be 3 to 10 capital letters or digits"))
    for element, meaning in search_fields.items():
        if meaning not in SEARCH_MEANINGS:
            problems.append(FieldError(f"search.{element}", f"must be one of {', '.join(SEARCH_MEANINGS)}"))
    if "certificate_number" not in search_fields.values():
        problems.append(FieldError("search", "one element must carry the certificate_number"))
    if problems:
        raise InvalidInput(problems)


def configure(
    session: Session,
    secret_key: str,
    department: Department,
    *,
    issuer_id: str,
    api_key: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    doc_types: dict[str, str] | None = None,
    search_fields: dict[str, str] | None = None,
    partner_url: str | None = None,
) -> None:
    """Create or replace a department's registration (flushes; the caller commits)."""
    row = repository.issuer_for_department(session, department.id)
    doc_types = doc_types if doc_types is not None else (row.doc_types if row else {})
    search_fields = search_fields or (row.search_fields if row else DEFAULT_SEARCH_FIELDS)
    partner_url = (partner_url or (row.partner_url if row else PRODUCTION_PARTNER_URL)).rstrip("/")
    _check(issuer_id, api_key, doc_types, search_fields)
    if not partner_url.startswith(("https://", "http://")):
        raise InvalidInput([FieldError("partner_url", "must be an http(s) address")])
    if row is None:
        row = DigilockerIssuer(department_id=department.id)
        session.add(row)
    row.issuer_id = issuer_id
    row.api_key_sealed = seal(secret_key, api_key)
    if client_id is not None:
        row.client_id = client_id
    if client_secret is not None:
        row.client_secret_sealed = seal(secret_key, client_secret)
    row.partner_url = partner_url
    row.doc_types = dict(doc_types)
    row.search_fields = dict(search_fields)
    row.updated_at = datetime.now(UTC)
    session.flush()


def _open(secret_key: str, row: DigilockerIssuer) -> PartnerRegistration:
    return PartnerRegistration(
        department_id=row.department_id,
        issuer_id=row.issuer_id,
        api_key=unseal(secret_key, row.api_key_sealed),
        client_id=row.client_id,
        client_secret=unseal(secret_key, row.client_secret_sealed) if row.client_secret_sealed else None,
        partner_url=row.partner_url,
        doc_types=doc_types_for(row.doc_types),
        search_fields=dict(row.search_fields),
    )


def registration(session: Session, secret_key: str, department_id: int) -> PartnerRegistration | None:
    row = repository.issuer_for_department(session, department_id)
    return None if row is None else _open(secret_key, row)


def registrations(session: Session, secret_key: str) -> list[PartnerRegistration]:
    """Every department's registration (a handful: the pull endpoints try each key)."""
    return [_open(secret_key, row) for row in repository.all_issuers(session)]


class RegistrationCache:
    """The opened registrations, kept for a minute per database so a pull request costs
    no query to authenticate. A signature no cached key made reloads them once, so a
    department configured a moment ago is recognised at once; a changed key replaces
    the old one within ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, list[PartnerRegistration]]] = {}

    def get(self, session: Session, secret_key: str, *, refresh: bool = False) -> list[PartnerRegistration]:
        database = str(session.get_bind().engine.url)
        with self._lock:
            cached = self._cached.get(database)
        if cached is not None and not refresh and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        fresh = registrations(session, secret_key)
        with self._lock:
            self._cached[database] = (time.monotonic(), fresh)
        return fresh
