"""A DigiLocker stand-in, written to the published contract, for tests over real HTTP.

As DigiLocker, it calls an issuer's Pull URI and Pull Doc APIs (XML signed with
``x-digilocker-hmac``), and it serves the two Authorized Partner API calls an issuer
pushes with: ``/public/account/2/verify`` (mobile number → DigiLocker id) and
``/public/account/1/pushuri`` — both form posts whose ``hmac`` is
``sha256(client secret + client id + ts)``, refused when it does not match."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse

from tests.digilocker.helpers import Answer, Partner, hmac_header, pull_doc_body, pull_uri_body, read_answer

#: How far a partner call's ts may be from the stand-in's clock.
TS_WINDOW_SECONDS = 300


@dataclass
class DigiLockerStandIn:
    client_id: str
    client_secret: str
    accounts: dict[str, str] = field(default_factory=dict)
    """Mobile number → DigiLocker id."""
    pushes: list[dict[str, str]] = field(default_factory=list)
    """Every accepted pushuri call's form, in order."""
    outages: int = 0
    """Answer this many partner calls with 503 first."""

    def open_account(self, mobile: str) -> str:
        digilocker_id = str(uuid.uuid4())
        self.accounts[mobile] = digilocker_id
        return digilocker_id

    def _refusal(self, clientid: str, ts: str, given: str) -> JSONResponse | None:
        if self.outages > 0:
            self.outages -= 1
            return JSONResponse({"error": "service_unavailable"}, status_code=503)
        expected = hashlib.sha256(f"{self.client_secret}{self.client_id}{ts}".encode()).hexdigest()
        if clientid != self.client_id or not hmac.compare_digest(expected, given):
            return JSONResponse({"error": "invalid_client", "error_description": "hmac mismatch"}, status_code=401)
        if not ts.isdigit() or abs(time.time() - int(ts)) > TS_WINDOW_SECONDS:
            return JSONResponse({"error": "invalid_ts"}, status_code=400)
        return None

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/public/account/2/verify")
        def verify(
            clientid: Annotated[str, Form()],
            ts: Annotated[str, Form()],
            hmac: Annotated[str, Form()],
            mobile: Annotated[str, Form()],
        ) -> JSONResponse:
            refused = self._refusal(clientid, ts, hmac)
            if refused is not None:
                return refused
            found = self.accounts.get(mobile)
            if found is None:
                return JSONResponse({"error": "account_not_found"}, status_code=404)
            return JSONResponse({"digilockerid": found})

        @api.post("/public/account/1/pushuri")
        def pushuri(
            clientid: Annotated[str, Form()],
            ts: Annotated[str, Form()],
            hmac: Annotated[str, Form()],
            digilockerid: Annotated[str, Form()],
            uri: Annotated[str, Form()],
            docid: Annotated[str, Form()],
            issuedate: Annotated[str, Form()],
            validfrom: Annotated[str, Form()],
            action: Annotated[str, Form()],
            validto: Annotated[str, Form()] = "",
        ) -> JSONResponse:
            refused = self._refusal(clientid, ts, hmac)
            if refused is not None:
                return refused
            if digilockerid not in self.accounts.values() or action not in ("A", "D", "U"):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            self.pushes.append(
                {
                    "digilockerid": digilockerid,
                    "uri": uri,
                    "docid": docid,
                    "issuedate": issuedate,
                    "validfrom": validfrom,
                    "validto": validto,
                    "action": action,
                }
            )
            return JSONResponse({"status": "success"})

        return api

    # --- DigiLocker calling the issuer ------------------------------------------------

    @staticmethod
    def pull_uri(sanad_url: str, partner: Partner, **search: str | None) -> tuple[int, Answer | None]:
        body = pull_uri_body(partner, **search)  # type: ignore[arg-type]
        response = httpx.post(
            f"{sanad_url}/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, partner.api_key)
        )
        return response.status_code, read_answer(response.content) if response.status_code != 401 else None

    @staticmethod
    def pull_doc(sanad_url: str, partner: Partner, uri: str, digilocker_id: str) -> tuple[int, Answer | None]:
        body = pull_doc_body(partner, uri, digilocker_id=digilocker_id)
        response = httpx.post(
            f"{sanad_url}/digilocker/v1/pull-doc", content=body, headers=hmac_header(body, partner.api_key)
        )
        return response.status_code, read_answer(response.content) if response.status_code != 401 else None
