"""What offline verifiers download: trust anchors and list, the JWKS, the signed status list."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from issuer import service as issuer_service
from verifier.dependencies import Context
from verifier.status_list import MEDIA_TYPE as STATUS_LIST_MEDIA_TYPE
from verifier.status_list import PATH as STATUS_LIST_PATH
from verifier.trust import JWKS_MEDIA_TYPE, StatusEntries
from web.conditional import revalidated

router = APIRouter(tags=["verification"])


def _json(request: Request, value: dict[str, Any], media_type: str, **headers: str) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return revalidated(request, Response(body, media_type=media_type, headers=headers))


def _wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    return "application/json" in request.headers.get("accept", "")


@router.get(
    "/api/v1/trust",
    response_class=Response,
    responses={
        200: {
            "content": {"application/x-pem-file": {}, "application/json": {}},
            "description": "PEM bundle; the trust list as JSON with `Accept: application/json` or `?format=json`.",
        }
    },
)
def trust(request: Request, context: Context) -> Response:
    """Sanad's trust anchors (root and issuing CA certificates) as a PEM bundle.

    As JSON: `issued_at`, `anchors` (the same certificates, PEM) and `keys`, every
    certificate a verifier may meet (`kind` root-ca, issuing-ca, tsa, department or
    status) with `key_id`, `department`, `subject`, `serial` (hex), `not_before`,
    `not_after`, `status` (active, retired, expired or revoked), `revoked_at` and the
    certificate's `sha256`. A department's earlier keys stay listed as "retired": they
    remain trusted for documents they signed while valid.
    """
    publisher = context.trust_publisher
    if _wants_json(request):
        return _json(request, publisher.trust_list(), "application/json", Vary="Accept")
    pem = Response(publisher.trust_pem(), media_type="application/x-pem-file", headers={"Vary": "Accept"})
    return revalidated(request, pem)


@router.get(
    "/api/v1/trust/jwks",
    response_class=Response,
    responses={200: {"content": {JWKS_MEDIA_TYPE: {}}, "description": "JSON Web Key Set."}},
)
def jwks(request: Request, context: Context) -> Response:
    """The keys that sign seals (every generation of every department's key) and the
    status list, as a JWKS (ES256, P-256). Each key's `x5c` holds its certificate and the
    issuing CA's; `sanad` says whose key it is (`department`), what it signs (`purpose`:
    seal or status), its validity and its `status`."""
    return _json(request, context.trust_publisher.jwks(), JWKS_MEDIA_TYPE)


@router.get(
    STATUS_LIST_PATH,
    response_class=Response,
    responses={200: {"content": {STATUS_LIST_MEDIA_TYPE: {}}, "description": "A signed status-list token."}},
)
def status_list(request: Request, context: Context) -> Response:
    """Every document's status as a signed snapshot (IETF OAuth Token Status List): two
    bits per document at the index its seal names (`s`); 0 valid, 1 revoked,
    3 superseded. Signed (ES256) by the status key in the JWKS; past its `exp` a
    snapshot is stale and must not be trusted to show validity. Rebuilt at most once
    a minute."""

    def entries() -> StatusEntries:
        with context.sessions() as session:
            return issuer_service.status_list_entries(session)

    snapshot = context.trust_publisher.status_list(entries)
    token = Response(snapshot.token.encode("ascii"), media_type=STATUS_LIST_MEDIA_TYPE)
    return revalidated(request, token)
