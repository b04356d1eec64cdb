"""DigiLocker's Authorized Partner API, as far as pushing needs it: find a citizen's
account by mobile number (``/public/account/2/verify``) and push a URI into it
(``/public/account/1/pushuri``, action A, D or U).

Every call is a form post signed with ``hmac = sha256(client secret + client id + ts)``
in hexadecimal. The standard library's client is enough for two calls; the secret is
never part of an error message."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date

#: Seconds one call may take before the push is tried again later.
TIMEOUT_SECONDS = 10


class PartnerUnavailable(Exception):
    """The partner API could not be reached or failed (try again later)."""


class PartnerRefused(Exception):
    """The partner API refused the call (bad credentials or data: a person must look)."""


def request_hmac(client_secret: str, client_id: str, ts: str) -> str:
    return hashlib.sha256(f"{client_secret}{client_id}{ts}".encode()).hexdigest()


def _date(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


@dataclass(frozen=True)
class PushedUri:
    uri: str
    docid: str
    action: str
    issue_date: date
    valid_from: date
    valid_to: date | None


class PartnerClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret

    def __repr__(self) -> str:
        return f"PartnerClient({self._base!r}, client_id={self._client_id!r})"

    def _post(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, object]]:
        ts = str(int(time.time()))
        form = {
            "clientid": self._client_id,
            **fields,
            "ts": ts,
            "hmac": request_hmac(self._secret, self._client_id, ts),
        }
        request = urllib.request.Request(  # noqa: S310 (the address is a configured http(s) URL)
            f"{self._base}{path}",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as e:
            body = _json(e.read())
            if e.code >= 500 or e.code == 429:
                raise PartnerUnavailable(f"{path}: HTTP {e.code}") from None
            return e.code, body
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise PartnerUnavailable(f"{path}: {type(e).__name__}: {getattr(e, 'reason', e)}") from None

    def account_for_mobile(self, mobile: str) -> str | None:
        """The DigiLocker id of the account with this mobile number, or ``None``."""
        status, body = self._post("/public/account/2/verify", {"mobile": mobile})
        if status == 404:
            return None
        if status != 200:
            raise PartnerRefused(f"verify: HTTP {status} {_error(body)}")
        found = body.get("digilockerid")
        return found if isinstance(found, str) and found else None

    def push_uri(self, digilocker_id: str, pushed: PushedUri) -> None:
        fields = {
            "digilockerid": digilocker_id,
            "uri": pushed.uri,
            "docid": pushed.docid,
            "issuedate": _date(pushed.issue_date),
            "validfrom": _date(pushed.valid_from),
            "validto": _date(pushed.valid_to),
            "action": pushed.action,
        }
        status, body = self._post("/public/account/1/pushuri", fields)
        if status != 200:
            raise PartnerRefused(f"pushuri: HTTP {status} {_error(body)}")


def _json(raw: bytes) -> dict[str, object]:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error(body: dict[str, object]) -> str:
    return str(body.get("error_description") or body.get("error") or "")[:200]
