"""Requesters: third parties a citizen lets read some of their documents.

An operator registers a requester; the citizen approves it for some document types (one
scope ``doc:<type>`` each); the requester then reads only those types, and every read is
written to the citizen's access log. The citizen sees and withdraws each grant here.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import audit
from issuer.service import HolderFilter
from locker import oauth_repository, repository
from locker.documents import HeldDocument, encode_cursor, get_document, list_documents
from locker.holder import Holder, holder_of
from locker.models import Requester
from locker.sharing import Visitor, log_requester_access
from sanad.errors import Conflict, FieldError, InvalidInput, NotFound
from sanad.ids import new_document_id, sha256_hex

SCOPE_PREFIX = "doc:"
CODE_LIFETIME = timedelta(minutes=10)
"""An authorization code must be exchanged this soon (RFC 6749 recommends at most 10 minutes)."""
TOKEN_LIFETIME = timedelta(hours=1)
"""How long an access token works. There are no refresh tokens: after this the requester
asks the citizen again, so a consent never outlives the hour it was given for."""

_NOT_SHARED = "no such document among those shared with you"


def scope_for(document_type: str) -> str:
    return f"{SCOPE_PREFIX}{document_type}"


def types_in(scope: str | None) -> list[str]:
    """The document types a space-separated scope names, in order, without repeats."""
    found: list[str] = []
    for item in (scope or "").split():
        if item.startswith(SCOPE_PREFIX) and item[len(SCOPE_PREFIX) :] not in found:
            found.append(item[len(SCOPE_PREFIX) :])
    return found


# --- registration (operators) ------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequester:
    requester: Requester
    client_secret: str
    """Shown once; only its SHA-256 is stored."""


_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&()*+,;=%]+")
_HOST_AND_PORT = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


def _redirect_uri_problem(uri: str) -> str | None:
    if len(uri) > 500:
        return "must be at most 500 characters"
    if "#" in uri:
        return "must not have a fragment"
    if not _URI_CHARACTERS.fullmatch(uri):
        return "has characters a URI may not have unescaped"
    parts = urlsplit(uri)
    # A plain host and port: the origin also goes into the consent page's security policy.
    if not parts.hostname or not _HOST_AND_PORT.fullmatch(parts.netloc):
        return "must be an absolute URL with a host name (no user info)"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return None  # a requester developing on its own machine
    return "must use https (http only for localhost)"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register_requester(
    session: Session,
    *,
    name: str,
    redirect_uris: Iterable[str],
    document_types: Iterable[str],
    known_types: Iterable[str],
    now: datetime,
) -> NewRequester:
    """Add a requester allowed to ask for ``document_types``; the caller commits."""
    problems: list[FieldError] = []
    name = name.strip()
    if not 1 <= len(name) <= 100:
        problems.append(FieldError("name", "must be 1 to 100 characters"))
    uris = list(dict.fromkeys(u.strip() for u in redirect_uris if u.strip()))
    if not uris:
        problems.append(FieldError("redirect_uri", "at least one is required"))
    for uri in uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            problems.append(FieldError("redirect_uri", f"{uri}: {problem}"))
    types = list(dict.fromkeys(t.strip() for t in document_types if t.strip()))
    known = set(known_types)
    if not types:
        problems.append(FieldError("types", "at least one document type is required"))
    for unknown in (t for t in types if t not in known):
        problems.append(FieldError("types", f"{unknown}: no such document type ({', '.join(sorted(known))})"))
    if sum(len(u) + 1 for u in uris) > 2000 or sum(len(t) + 1 for t in types) > 500:
        problems.append(FieldError("redirect_uri", "too many redirect URIs or types"))
    if problems:
        raise InvalidInput(problems)
    secret = secrets.token_urlsafe(32)
    requester = Requester(
        client_id=f"rq_{new_document_id()}",
        name=name,
        secret_hash=sha256_hex(secret),
        redirect_uris=" ".join(uris),
        document_types=" ".join(types),
        created_at=now,
    )
    session.add(requester)
    return NewRequester(requester=requester, client_secret=secret)


def secret_matches(requester: Requester, secret: str) -> bool:
    return hmac.compare_digest(sha256_hex(secret), requester.secret_hash)


# --- the citizen's view -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectedRequester:
    """A requester that can read some of the citizen's documents now, or will once it
    exchanges the code the citizen's consent gave it (``pending``)."""

    grant_id: str
    client_id: str
    name: str
    document_types: list[str]
    granted_at: datetime
    expires_at: datetime
    """When its last token stops working; for a pending grant, when its code does."""
    pending: bool = False
    """Consent given, code not yet exchanged: withdrawing it voids the code."""


def connected_requesters(session: Session, holder: Holder, now: datetime) -> list[ConnectedRequester]:
    """Every grant that opens something now: live tokens, or a code not yet exchanged.
    Listing pending ones lets the citizen stop a consent before the requester uses it."""
    connected = []
    for grant, requester, token_expires, code_expires in oauth_repository.open_grants_of(
        session, holder.account_id, now
    ):
        expires_at = token_expires or code_expires
        assert expires_at is not None  # the query keeps only grants with one or the other
        connected.append(
            ConnectedRequester(
                grant_id=grant.id,
                client_id=requester.client_id,
                name=requester.name,
                document_types=types_in(grant.scope),
                granted_at=grant.granted_at,
                expires_at=expires_at,
                pending=token_expires is None,
            )
        )
    return connected


def withdraw_grant(session: Session, holder: Holder, grant_id: str, now: datetime) -> None:
    """End a requester's access at once: every token of the grant stops working, and a code
    not yet exchanged can no longer be (the exchange answers ``invalid_grant``)."""
    grant = oauth_repository.grant_of(session, holder.account_id, grant_id)
    if grant is None:
        raise NotFound("no such grant")
    if grant.revoked_at is not None:
        raise Conflict("this access was already withdrawn")
    oauth_repository.revoke_grant(session, grant.id, now)
    audit.record(session, action="consent.withdraw", subject=f"consent:{grant.id}", actor="citizen", at=now)


# --- what a requester reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class RequesterAccess:
    """What a live access token lets its requester read: one citizen's documents of the
    consented types."""

    client_id: str
    grant_id: str
    account_id: str
    document_types: tuple[str, ...]


def _holder(session: Session, access: RequesterAccess) -> Holder:
    account = repository.account_by_id(session, access.account_id)
    if account is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound(_NOT_SHARED)
    return holder_of(account)


def requester_documents(
    session: Session, access: RequesterAccess, visitor: Visitor, now: datetime, *, cursor: str | None, limit: int
) -> tuple[list[HeldDocument], str | None]:
    """One page of the citizen's documents of the granted types, newest first. Each listed
    document counts as viewed: the listing shows its record. The reads are logged in the
    caller's transaction, which commits before the page is answered."""
    holder = _holder(session, access)
    merged: list[HeldDocument] = []
    more = False
    # One query per type, each from the same position in the newest-first order: the
    # first ``limit`` of their union is exactly the page of all granted types.
    for document_type in access.document_types:
        page, next_cursor = list_documents(
            session, holder.mobile, HolderFilter(type=document_type), cursor=cursor, limit=limit
        )
        merged.extend(page)
        more = more or next_cursor is not None
    merged.sort(key=lambda held: (held.document.issued_at, held.document.id), reverse=True)
    more = more or len(merged) > limit
    page = merged[:limit]
    for held in page:
        log_requester_access(session, access.account_id, held.document.id, access.client_id, "view", visitor, now)
    return page, (encode_cursor(page[-1].document) if more and page else None)


def requester_document(
    session: Session, access: RequesterAccess, document_id: str, action: str, visitor: Visitor, now: datetime
) -> HeldDocument:
    """One document of a granted type; any other (another type, another person's, none)
    answers the same 404. The read is logged as ``action`` (view or download), in the
    caller's transaction."""
    holder = _holder(session, access)
    try:
        held = get_document(session, holder.mobile, document_id)
    except NotFound:
        raise NotFound(_NOT_SHARED) from None
    if held.document.type not in access.document_types:
        raise NotFound(_NOT_SHARED)
    log_requester_access(session, access.account_id, held.document.id, access.client_id, action, visitor, now)
    return held
