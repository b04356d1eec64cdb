"""The requester API's bearer tokens, checked by Authlib's resource protector (RFC 6750):
a token works until it expires, the requester revokes it, or the citizen withdraws its grant."""

from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import ResourceProtector  # type: ignore[import-untyped]
from authlib.oauth2.rfc6750 import BearerTokenValidator  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from locker.oauth_server import HttpCall, IssuedToken, find_token, json_request
from locker.requesters import RequesterAccess

REALM = "sanad-requester-api"


class _Validator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, session: Session, now: datetime) -> None:
        super().__init__(realm=REALM)
        self.session = session
        self.now = now

    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        return find_token(self.session, token_string, self.now)


def authenticate_requester(session: Session, call: HttpCall, now: datetime) -> RequesterAccess:
    """The access the request's bearer token carries; raises Authlib's OAuth2Error
    (missing, unknown, expired or revoked token: 401 with ``WWW-Authenticate``)."""
    protector = ResourceProtector()
    protector.register_token_validator(_Validator(session, now))
    token: IssuedToken = protector.validate_request(scopes=None, request=json_request(call))
    return RequesterAccess(
        client_id=token.requester.client_id,
        grant_id=token.grant.id,
        account_id=token.grant.account_id,
        document_types=tuple(token.document_types),
    )
