"""The OAuth 2.0 authorization server requesters talk to, built on Authlib.

Authlib does the protocol: request validation, client authentication, PKCE, codes and
their errors. This module gives it what it asks a framework integration for (Authlib has
none for Starlette) and what it asks the application for:

- ``HttpCall`` is one request as Authlib needs it, read by the endpoint beforehand (the
  form body must be awaited; Authlib is synchronous), and ``SanadAuthorizationServer``
  turns it into Authlib's request objects and Authlib's answers into Starlette responses.
- A server is built per request around that request's database session: Authlib calls
  ``query_client`` and friends without a request argument, so the session travels on the
  server instead of in a global.
- ``RegisteredClient``, ``IssuedCode`` and ``IssuedToken`` wrap our rows in the methods of
  Authlib's ClientMixin, AuthorizationCodeMixin and TokenMixin.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationCodeGrant,
    AuthorizationServer,
    InvalidGrantError,
    InvalidRequestError,
    JsonPayload,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator  # type: ignore[import-untyped]
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from sqlalchemy.orm import Session
from starlette.responses import Response

import audit
from locker import oauth_repository
from locker.holder import Holder
from locker.models import AccessToken, AuthorizationCode, Requester, RequesterGrant
from locker.requesters import CODE_LIFETIME, TOKEN_LIFETIME, scope_for, secret_matches, types_in
from sanad.ids import new_document_id, sha256_hex

log = logging.getLogger(__name__)

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
"""Every requester is a confidential client: it proves itself with its secret."""


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request, as much of it as Authlib reads."""

    method: str
    uri: str
    """The URL as the requester sees it (the public base URL), so Authlib's https check
    judges the deployment, not the hop from a TLS-terminating proxy."""
    headers: Mapping[str, str]
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    params_in_form: bool
    """Where the OAuth parameters are: the query (authorization endpoint, whose form holds
    only the consent decision) or the form body (token and revocation endpoints)."""

    @property
    def params(self) -> list[tuple[str, str]]:
        return self.form if self.params_in_form else self.query


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, params: Iterable[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in params:
            self._data.setdefault(key, value)
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, call: HttpCall) -> None:
        super().__init__(call.method, call.uri, headers=call.headers)
        self.payload = _Payload(call.params)
        self._args = dict(call.query[::-1])  # the first of repeated keys wins, as in data
        self._form = dict(call.form[::-1])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, params: Iterable[tuple[str, str]]) -> None:
        self._data = dict(params)

    @property
    def data(self) -> dict[str, str]:
        return self._data


def json_request(call: HttpCall) -> Any:
    """Authlib's plain request (headers and parameters), as its resource protector reads."""
    request = JsonRequest(call.method, call.uri, call.headers)
    request.payload = _JsonPayload(call.params)
    return request


def error_response(error: Any) -> Response:
    """An Authlib error as Authlib's standard answer (its JSON body and headers)."""
    status, body, headers = error()
    return _response(status, body, headers)


def _response(status: int, body: object, headers: Iterable[tuple[str, str]]) -> Response:
    content = json.dumps(body) if isinstance(body, dict) else str(body or "")
    return Response(content, status_code=status, headers=dict(headers))


# --- what Authlib asks of our rows ----------------------------------------------------------


class RegisteredClient:
    """A requester, as Authlib's ClientMixin."""

    def __init__(self, requester: Requester) -> None:
        self.requester = requester
        self.redirect_uris = requester.redirect_uris.split()
        self.document_types = requester.document_types.split()

    @property
    def name(self) -> str:
        return self.requester.name

    def get_client_id(self) -> str:
        return self.requester.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous registration may omit redirect_uri (RFC 6749 §3.1.2.3).
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope if every item is one of the registered types, else ``None``
        (Authlib answers invalid_scope). There is no default: a requester names what it wants."""
        requested = (scope or "").split()
        allowed = {scope_for(t) for t in self.document_types}
        if not requested or not set(requested) <= allowed:
            return None
        return " ".join(dict.fromkeys(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.requester, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"  # no refresh tokens


@dataclass(frozen=True)
class IssuedCode:
    """An authorization code row with its grant, as Authlib's AuthorizationCodeMixin."""

    code: AuthorizationCode
    grant: RequesterGrant

    @property
    def code_challenge(self) -> str:
        return self.code.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.code.code_challenge_method

    def get_redirect_uri(self) -> str | None:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return self.grant.scope


@dataclass(frozen=True)
class IssuedToken:
    """An access token row with its grant and requester, as Authlib's TokenMixin."""

    token: AccessToken
    grant: RequesterGrant
    requester: Requester
    now: datetime

    def check_client(self, client: RegisteredClient) -> bool:
        return self.grant.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.grant.scope

    def get_expires_in(self) -> int:
        return int((self.token.expires_at - self.token.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.token.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.token.revoked_at is not None or self.grant.revoked_at is not None

    def get_user(self) -> str:
        return self.grant.account_id

    def get_client(self) -> RegisteredClient:
        return RegisteredClient(self.requester)

    @property
    def document_types(self) -> list[str]:
        return types_in(self.grant.scope)


def find_token(session: Session, token: str, now: datetime) -> IssuedToken | None:
    found = oauth_repository.token_with_grant(session, sha256_hex(token)) if len(token) <= 200 else None
    return IssuedToken(*found, now=now) if found else None


# --- the grant, PKCE and revocation ---------------------------------------------------------


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: SanadAuthorizationServer

    def save_authorization_code(self, code: str, request: Any) -> None:
        """The citizen approved: record the grant and a code bound to it."""
        holder: Holder = request.user
        now = self.server.now
        grant = RequesterGrant(
            id=new_document_id(),
            client_id=request.client.get_client_id(),
            account_id=holder.account_id,
            scope=request.scope,
            granted_at=now,
        )
        data = request.payload.data
        code_row = AuthorizationCode(
            code_hash=sha256_hex(code),
            grant_id=grant.id,
            redirect_uri=request.payload.redirect_uri,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        session = self.server.session
        session.add(grant)
        session.flush()  # the code's foreign key needs the grant first
        session.add(code_row)
        audit.record(
            session,
            action="consent.grant",
            subject=f"consent:{grant.id}",
            actor="citizen",
            details={"requester": grant.client_id, "name": request.client.name, "scope": request.scope},
            at=now,
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        """The code if it was issued to this client, is unused and unexpired. A second use
        withdraws the grant, and with it every token the first use got (RFC 6749 §4.1.2)."""
        session, now = self.server.session, self.server.now
        found = oauth_repository.code_for_client(session, sha256_hex(code), client.get_client_id())
        if found is None:
            return None
        code_row, grant = found
        if code_row.used_at is not None:
            log.warning("authorization code reused by %s; withdrawing grant %s", client.get_client_id(), grant.id)
            oauth_repository.revoke_grant(session, grant.id, now)
            # Committed here: this exchange fails next (invalid_grant) and a failed
            # exchange keeps nothing else it wrote, but the withdrawal must stand.
            session.commit()
            return None
        if code_row.expires_at <= now or grant.revoked_at is not None:
            return None
        return IssuedCode(code_row, grant)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        # Spent in the same transaction as the token is saved; a concurrent exchange of the
        # same code finds it spent and gets invalid_grant, and the caller rolls back.
        if not oauth_repository.spend_code(self.server.session, authorization_code.code.code_hash, self.server.now):
            raise InvalidGrantError("The code was already used.")

    def authenticate_user(self, authorization_code: IssuedCode) -> str:
        return authorization_code.grant.account_id


class _RequiredS256(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, S256 only. Authlib alone lets a confidential
    client omit the challenge and accepts ``plain``."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Callable[[str, str], bool]]] = {
        "S256": CodeChallenge.CODE_CHALLENGE_METHODS["S256"]
    }

    def validate_code_challenge(self, grant: Any, redirect_uri: str | None) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _TokenRevocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: SanadAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        # Only access tokens exist, whatever the hint says (RFC 7009 §2.1 lets us look further).
        return find_token(self.server.session, token_string, self.server.now)

    def revoke_token(self, token: IssuedToken, request: Any) -> None:
        oauth_repository.revoke_token(self.server.session, token.token.token_hash, self.server.now)


def _new_access_token(**_: object) -> str:
    return secrets.token_urlsafe(32)


# --- the server ----------------------------------------------------------------------------


class SanadAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's authorization server for one request, on that request's session."""

    def __init__(self, session: Session, document_types: Iterable[str], now: datetime) -> None:
        super().__init__(scopes_supported=[scope_for(t) for t in document_types])
        self.session = session
        self.now = now
        generator = BearerTokenGenerator(_new_access_token, expires_generator=int(TOKEN_LIFETIME.total_seconds()))
        self.register_token_generator("default", generator)
        self.register_grant(_CodeGrant, [_RequiredS256()])
        self.register_endpoint(_TokenRevocation)

    # What Authlib asks of the application.

    def query_client(self, client_id: str) -> RegisteredClient | None:
        requester = oauth_repository.requester(self.session, client_id)
        return RegisteredClient(requester) if requester else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        code: IssuedCode = request.authorization_code
        self.session.add(
            AccessToken(
                token_hash=sha256_hex(token["access_token"]),
                grant_id=code.grant.id,
                issued_at=self.now,
                expires_at=self.now + TOKEN_LIFETIME,
            )
        )

    # What Authlib asks of a framework integration.

    def create_oauth2_request(self, request: HttpCall) -> Any:
        return _OAuth2Request(request)

    def create_json_request(self, request: HttpCall) -> Any:
        return json_request(request)

    def handle_response(self, status: int, body: object, headers: Iterable[tuple[str, str]]) -> Response:
        return _response(status, body, headers)

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        log.debug("oauth signal %s", name)  # nothing subscribes; Authlib requires the hook

    # Typed entry points for our endpoints.

    def consent_grant(self, call: HttpCall, holder: Holder | None) -> Any:
        """The validated authorization request (a grant with ``client``, ``request.scope``
        and ``redirect_uri``); raises Authlib's OAuth2Error when invalid."""
        return self.get_consent_grant(call, end_user=holder)

    def authorization_response(self, grant: Any, holder: Holder | None) -> Response:
        """Redirect to the requester with a code (``holder`` approved) or access_denied (``None``)."""
        response: Response = self.create_authorization_response(grant.request, grant_user=holder, grant=grant)
        return response

    def token_response(self, call: HttpCall) -> Response:
        try:
            response: Response = self.create_token_response(call)
        except OAuth2Error as error:  # raised before Authlib's own handling: insecure_transport
            response = error_response(error)
        return self._settled(response)

    def revocation_response(self, call: HttpCall) -> Response:
        try:
            response: Response = self.create_endpoint_response(_TokenRevocation.ENDPOINT_NAME, call)
        except OAuth2Error as error:
            response = error_response(error)
        return self._settled(response)

    def _settled(self, response: Response) -> Response:
        """Authlib answers a failed exchange instead of raising, so the request's scope
        would commit what it wrote (a token saved before the code turned out spent):
        a failure keeps nothing. A success is left to the scope to commit."""
        if response.status_code != 200:
            self.session.rollback()
        return response

    def redirect_error(self, call: HttpCall, error: Any) -> Response:
        """Send an authorization error back to the requester's (validated) redirect URI."""
        response: Response = self.handle_error_response(self.create_oauth2_request(call), error)
        return response
