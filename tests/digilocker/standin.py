"""A DigiLocker stand-in, written to the published contract, for tests over real HTTP.

As DigiLocker, it calls an issuer's Pull URI and Pull Doc APIs (XML signed with
``x-digilocker-hmac``), and it serves the two Authorized Partner API calls an issuer
pushes with: ``/public/account/2/verify`` (mobile number → DigiLocker id) and
``/public/account/1/pushuri`` — both form posts whose ``hmac`` is
``sha256(client secret + client id + ts)``, refused when it does not match.

And a consent manager, which signs the consent artifacts API Setu's requesters forward."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
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


class ConsentManagerStandIn:
    """A consent manager, as API Setu's requesters obtain consents from: it signs consent
    artifacts in API Setu's published shape with a key generated for the test run."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def consent(self, issuer_id: str, doc_type: str, *, valid_for: timedelta = timedelta(days=1)) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "consentId": str(uuid.uuid4()),
            "timestamp": _utc(now),
            "dataConsumer": {"id": "bank-of-punjab-kyc"},
            "dataProvider": {"id": issuer_id},
            "purpose": {"description": "Know your customer for opening an account"},
            "user": {"idType": "MOBILE", "idNumber": "9876543210", "mobile": "9876543210", "email": "a@example.in"},
            "data": {"id": doc_type},
            "permission": {
                "access": "VIEW",
                "dateRange": {"from": _utc(now - timedelta(minutes=1)), "to": _utc(now + valid_for)},
                "frequency": {"unit": "DAY", "value": 1, "repeats": 1},
            },
        }

    def sign(self, consent: dict[str, Any], key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, Any]:
        """The artifact: ``consent`` and the signature over its canonical JSON."""
        signed = json.dumps(consent, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        signature = (key or self.key).sign(signed, ec.ECDSA(hashes.SHA256()))
        return {"consent": consent, "signature": {"signature": base64.b64encode(signature).decode()}}

    def artifact(self, issuer_id: str, doc_type: str) -> dict[str, Any]:
        return self.sign(self.consent(issuer_id, doc_type))


CONSENT_MANAGER = ConsentManagerStandIn()
"""One consent manager for the run (generating a key per test would only cost time)."""


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
