"""The requester API: the OAuth 2.0 token and revocation endpoints, the documents a citizen
allowed a requester to read, and the citizen's own list of connected requesters."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from authlib.oauth2 import OAuth2Error  # type: ignore[import-untyped]
from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from locker import documents, requesters
from locker.dependencies import ApiHolder, Context, CurrentVisitor, LockerContext
from locker.endpoints import content_response, to_locker_document
from locker.oauth_dependencies import CurrentRequester, FormCall
from locker.oauth_schemas import GrantRead
from locker.oauth_server import SanadAuthorizationServer, error_response
from locker.schemas import DocumentPage, LockerDocument
from sanad.dependencies import DbSession


def _now() -> datetime:
    return datetime.now(UTC)


def authorization_server(session: Session, context: LockerContext, now: datetime) -> SanadAuthorizationServer:
    return SanadAuthorizationServer(session, context.kit.templates.keys(), now)


class OAuthErrorRoute(APIRoute):
    """Answers Authlib's errors (a missing, expired or revoked token) the way RFC 6750 says:
    its JSON body with ``WWW-Authenticate``. Sanad's own errors keep the global handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except OAuth2Error as error:
                return error_response(error)

        return guarded


# --- the token and revocation endpoints -----------------------------------------------------

oauth_router = APIRouter(prefix="/oauth", tags=["requester authorization"])

_FORM_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "code", "code_verifier"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["authorization_code"]},
                        "code": {"type": "string", "description": "From the redirect to your redirect URI."},
                        "redirect_uri": {"type": "string", "description": "Required if the request named one."},
                        "code_verifier": {"type": "string", "description": "The PKCE secret (43-128 characters)."},
                        "client_id": {"type": "string", "description": "With client_secret_post."},
                        "client_secret": {"type": "string", "description": "With client_secret_post."},
                    },
                }
            }
        },
    }
}
_REVOKE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {
                        "token": {"type": "string"},
                        "token_type_hint": {"type": "string", "enum": ["access_token"]},
                    },
                }
            }
        },
    }
}
_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "`{error, error_description}`: invalid_request, invalid_grant, unsupported_grant_type."},
    401: {"description": "invalid_client: unknown client or wrong secret (with `WWW-Authenticate: Basic`)."},
}


@oauth_router.post(
    "/token",
    response_class=Response,
    openapi_extra=_FORM_DOC,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"access_token": "…", "token_type": "Bearer", "expires_in": 3600, "scope": "doc:x"}
                }
            },
            "description": "An access token; there is no refresh token.",
        },
        **_OAUTH_ERRORS,
    },
)
def token(call: FormCall, context: Context, session: DbSession) -> Response:
    """Exchange an authorization code for an access token (RFC 6749 §4.1.3 with PKCE, RFC
    7636). Authenticate with HTTP Basic (`client_id:client_secret`) or `client_id` and
    `client_secret` in the form. A code works once, for 10 minutes, only with the
    `code_verifier` whose S256 hash was the `code_challenge`. The token works for an hour;
    then ask the citizen again."""
    return authorization_server(session, context, _now()).token_response(call)


@oauth_router.post("/revoke", response_class=Response, openapi_extra=_REVOKE_DOC, responses=_OAUTH_ERRORS)
def revoke(call: FormCall, context: Context, session: DbSession) -> Response:
    """Revoke one of your access tokens (RFC 7009), authenticated like the token endpoint.
    Answers 200 whether or not the token was live."""
    return authorization_server(session, context, _now()).revocation_response(call)


# --- what a requester reads -------------------------------------------------------------------

requester_router = APIRouter(prefix="/api/v1/requester", tags=["requester"], route_class=OAuthErrorRoute)

_TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "`invalid_token`: missing, unknown, expired or revoked token; ask the citizen again."},
    404: {"description": "Not among the documents the citizen allowed you (a missing one reads the same)."},
}


@requester_router.get("/documents", response_model=DocumentPage, responses=_TOKEN_ERRORS)
def list_documents(
    access: CurrentRequester,
    visitor: CurrentVisitor,
    context: Context,
    session: DbSession,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    """The citizen's documents of the types they allowed you, newest first, with their live
    status. The citizen sees every read in their access log."""
    page, next_cursor = requesters.requester_documents(session, access, visitor, _now(), cursor=cursor, limit=limit)
    return DocumentPage(items=[to_locker_document(context, held) for held in page], next_cursor=next_cursor)


@requester_router.get("/documents/{document_id}", response_model=LockerDocument, responses=_TOKEN_ERRORS)
def get_document(
    document_id: str, access: CurrentRequester, visitor: CurrentVisitor, context: Context, session: DbSession
) -> LockerDocument:
    """One document the citizen allowed you to read."""
    held = requesters.requester_document(session, access, document_id, "view", visitor, _now())
    return to_locker_document(context, held)


@requester_router.get(
    "/documents/{document_id}/content",
    response_class=Response,
    responses={
        **_TOKEN_ERRORS,
        200: {"content": {"application/pdf": {}}, "description": "The signed PDF (filesystem storage)."},
        307: {"description": "A link valid for 60 seconds to the signed PDF in object storage."},
    },
)
def get_document_content(
    document_id: str, access: CurrentRequester, visitor: CurrentVisitor, context: Context, session: DbSession
) -> Response:
    """The signed PDF exactly as issued: its SHA-256 equals the document's `sha256`. Verify it
    with `POST /api/v1/verify` or offline against the trust anchors."""
    held = requesters.requester_document(session, access, document_id, "download", visitor, _now())
    return content_response(documents.content_of(context.store, held.document))


# --- the citizen's connected requesters --------------------------------------------------------

grants_router = APIRouter(prefix="/api/v1/locker", tags=["locker"])

_SIGNED_IN: dict[int | str, dict[str, Any]] = {401: {"description": "Not signed in, or the session ended."}}


@grants_router.get("/grants", response_model=list[GrantRead], responses=_SIGNED_IN)
def list_grants(holder: ApiHolder, session: DbSession) -> list[GrantRead]:
    """Requesters that can read some of your documents now, newest first, and those you
    allowed that have not collected their access yet (`pending`): withdrawing one of those
    voids its code, so it never gets access."""
    return [GrantRead.of(c) for c in requesters.connected_requesters(session, holder, _now())]


@grants_router.delete(
    "/grants/{grant_id}",
    status_code=204,
    responses={
        **_SIGNED_IN,
        404: {"description": "No such grant of yours."},
        409: {"description": "Already withdrawn."},
    },
)
def withdraw_grant(grant_id: str, holder: ApiHolder, session: DbSession) -> Response:
    """Withdraw a requester's access at once: every token it holds from this grant stops
    working, and a code it has not exchanged yet is refused (`invalid_grant`)."""
    requesters.withdraw_grant(session, holder, grant_id, _now())
    return Response(status_code=204)
