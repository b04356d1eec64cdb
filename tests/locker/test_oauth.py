"""The requester API: OAuth 2.0 authorization code with PKCE (S256), driven as a requester
and a citizen's browser would, on both backends.

A requester is registered, sends the citizen to /oauth/authorize, the citizen signs in
with the locker's pages and approves or refuses; the requester exchanges the code and
reads only the consented types of that citizen's documents, until the token expires or
is revoked. Requester tokens have their own authorization matrix at the end.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import time_machine
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli import app as cli
from app.factory import create_app
from app.migrate import upgrade
from issuer.models import Document
from locker.models import AccessToken, Requester
from locker.requesters import register_requester
from sanad.db import make_engine
from sanad.ids import sha256_hex
from tests.conftest import Backend, IssuingDepartment, require_tool
from tests.locker.conftest import issue_to, latest_code, new_mobile, sign_in
from tests.verifier.test_pages_browser import CHROMIUM_ARGS

REDIRECT_URI = "https://bank.example/sanad/callback"
INCOME = "doc:income-certificate"


# --- a requester, a citizen's browser ----------------------------------------------------------


@dataclass
class Client:
    client_id: str
    secret: str
    name: str

    @property
    def basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.client_id, self.secret)


def register(
    backend: Backend,
    *,
    types: tuple[str, ...] = ("income-certificate",),
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
    known_types: tuple[str, ...] = ("income-certificate",),
) -> Client:
    name = f"ABC Bank {secrets.token_hex(2)}"
    with backend.context.sessions() as s:
        new = register_requester(
            s,
            name=name,
            redirect_uris=redirect_uris,
            document_types=types,
            known_types=known_types,
            now=datetime.now(UTC),
        )
        s.commit()
    return Client(new.requester.client_id, new.client_secret, name)


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.2), computed here independently."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_url(client: Client, challenge: str | None, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": INCOME,
        "state": "st-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def browser_sign_in(client: TestClient, backend: Backend, mobile: str, next_path: str) -> httpx.Response:
    """The sign-in pages as a browser uses them; returns the page ``next`` leads to."""
    page = client.get("/locker/sign-in", params={"next": next_path})
    assert page.status_code == 200, page.text
    csrf = csrf_of(page)
    sent = client.post("/locker/sign-in/code", data={"csrf": csrf, "mobile": mobile, "next": next_path})
    assert sent.status_code == 200, sent.text
    done = client.post(
        "/locker/sign-in",
        data={"csrf": csrf, "mobile": mobile, "code": latest_code(backend, mobile), "next": next_path},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == next_path
    return client.get(next_path, follow_redirects=False)


def consent_page(client: TestClient, backend: Backend, mobile: str, url: str) -> httpx.Response:
    """Open the authorization URL signed out: the sign-in comes first, then the consent page."""
    first = client.get(url, follow_redirects=False)
    assert first.status_code == 303, first.text
    location = first.headers["location"]
    assert location.startswith("/locker/sign-in?next=")
    assert parse_qs(urlparse(location).query)["next"] == [url]
    page = browser_sign_in(client, backend, mobile, url)
    assert page.status_code == 200, page.text
    assert 'data-testid="consent"' in page.text
    return page


def decide(client: TestClient, page: httpx.Response, decision: str) -> httpx.Response:
    """Press Allow or Don't allow on the consent page."""
    action = re.search(r'<form id="consent-form" method="post" action="([^"]+)"', page.text)
    assert action, page.text
    response = client.post(
        html.unescape(action.group(1)), data={"csrf": csrf_of(page), "decision": decision}, follow_redirects=False
    )
    assert response.status_code == 302, response.text
    return response


def redirect_params(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def exchange(
    client: TestClient, requester: Client, code: str, verifier: str | None, *, post_auth: bool = False, **extra: str
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    if post_auth:
        form |= {"client_id": requester.client_id, "client_secret": requester.secret}
        return client.post("/oauth/token", data=form)
    return client.post("/oauth/token", data=form, auth=requester.basic)


@dataclass
class Approved:
    requester: Client
    mobile: str
    code: str
    verifier: str
    state: str


def approve(
    client: TestClient, backend: Backend, requester: Client | None = None, mobile: str | None = None
) -> Approved:
    requester = requester or register(backend)
    mobile = mobile or new_mobile()
    verifier, challenge = pkce()
    url = authorize_url(requester, challenge)
    params = redirect_params(decide(client, consent_page(client, backend, mobile, url), "approve"))
    assert params["state"] == parse_qs(urlparse(url).query)["state"][0]
    return Approved(requester, mobile, params["code"], verifier, params["state"])


def access_token(client: TestClient, approved: Approved) -> dict[str, str]:
    response = exchange(client, approved.requester, approved.code, approved.verifier)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def fetch(client: TestClient, backend: Backend, url: str, headers: dict[str, str]) -> bytes:
    response = client.get(url, headers=headers, follow_redirects=False)
    if backend.name == "embedded":
        assert response.status_code == 200, response.text
        return response.content
    assert response.status_code == 307, response.text
    fetched = httpx.get(response.headers["location"])
    assert fetched.status_code == 200
    return fetched.content


def issue_in_order(client: TestClient, dept: IssuingDepartment, mobile: str, count: int) -> list[dict[str, object]]:
    """Documents issued a whole second apart (issue times have whole seconds; a tie would
    order by id), oldest first, in the recent past so the flows after them run at real time."""
    start = datetime.now(UTC) - timedelta(seconds=count + 1)
    issued = []
    for second in range(count):
        with time_machine.travel(start + timedelta(seconds=second)):
            issued.append(issue_to(client, dept, mobile))
    return issued


def retype(backend: Backend, document_id: object, document_type: str) -> None:
    """Make a held document of another type (only one template ships): the requester was
    not allowed that type."""
    with backend.context.sessions() as s:
        s.execute(update(Document).where(Document.id == document_id).values(type=document_type))
        s.commit()


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer ")


# --- the happy path ---------------------------------------------------------------------------------


def test_consent_then_only_the_consented_documents_byte_for_byte(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    older, newer, other_type = issue_in_order(client, dept, mobile, 3)
    retype(backend, other_type["id"], "birth-certificate")
    requester = register(backend)
    verifier, challenge = pkce()
    url = authorize_url(requester, challenge)

    page = consent_page(client, backend, mobile, url)
    assert requester.name in page.text
    assert "Income Certificate" in page.text
    assert "bank.example" in page.text
    params = redirect_params(decide(client, page, "approve"))
    assert set(params) == {"code", "state"}

    token = exchange(client, requester, params["code"], verifier)
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == INCOME
    assert "refresh_token" not in body
    headers = {"Authorization": f"Bearer {body['access_token']}", "User-Agent": "abc-bank/1.0"}

    listing = client.get("/api/v1/requester/documents", headers=headers)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert [d["id"] for d in items] == [newer["id"], older["id"]]
    assert items[0]["title"]["pa"] == "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ"
    assert items[0]["sha256"] == newer["sha256"]

    record = client.get(f"/api/v1/requester/documents/{older['id']}", headers=headers)
    assert record.status_code == 200
    assert record.json()["status"] == "valid"
    content = fetch(client, backend, f"/api/v1/requester/documents/{older['id']}/content", headers)
    assert hashlib.sha256(content).hexdigest() == older["sha256"]

    log = client.get("/api/v1/locker/access-log", headers=sign_in(client, backend, mobile)).json()
    reads = {(e["document_id"], e["action"]) for e in log if e["via"] == "requester"}
    assert reads == {(newer["id"], "view"), (older["id"], "view"), (older["id"], "download")}
    assert {e["requester"] for e in log} == {requester.client_id}
    assert {e["user_agent"] for e in log} == {"abc-bank/1.0"}
    assert other_type["id"] not in {e["document_id"] for e in log}


def test_client_secret_post_and_paging_across_the_granted_types(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    issued = [d["id"] for d in issue_in_order(client, dept, mobile, 5)]
    approved = approve(client, backend, mobile=mobile)
    response = exchange(client, approved.requester, approved.code, approved.verifier, post_auth=True)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    seen: list[str] = []
    url = "/api/v1/requester/documents?limit=2"
    while url:
        page = client.get(url, headers=headers).json()
        seen += [d["id"] for d in page["items"]]
        url = f"/api/v1/requester/documents?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == issued[::-1]


def test_the_consent_page_speaks_punjabi_and_hindi(client: TestClient, backend: Backend) -> None:
    requester = register(backend)
    url = authorize_url(requester, pkce()[1])
    consent_page(client, backend, new_mobile(), url)
    punjabi = client.get(url, headers={"Accept-Language": "pa"})
    assert "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ" in punjabi.text
    assert "ਇਜਾਜ਼ਤ ਦਿਓ" in punjabi.text
    assert f"ਕੀ {requester.name} ਨਾਲ ਦਸਤਾਵੇਜ਼ ਸਾਂਝੇ ਕਰਨੇ ਹਨ?" in punjabi.text
    hindi = client.get(url, headers={"Accept-Language": "hi"})
    assert "आय प्रमाण पत्र" in hindi.text
    assert "अनुमति दें" in hindi.text


# --- the authorization request --------------------------------------------------------------------


def test_refusing_redirects_with_access_denied(client: TestClient, backend: Backend) -> None:
    requester = register(backend)
    url = authorize_url(requester, pkce()[1], state="keep-me")
    params = redirect_params(decide(client, consent_page(client, backend, new_mobile(), url), "refuse"))
    assert params["error"] == "access_denied"
    assert params["state"] == "keep-me"
    assert "code" not in params


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"code_challenge": None, "code_challenge_method": None}, "invalid_request", id="no-challenge"),
        pytest.param({"code_challenge_method": None}, "invalid_request", id="method-omitted-means-plain"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain"),
        pytest.param({"scope": "doc:birth-certificate"}, "invalid_scope", id="unknown-type"),
        pytest.param({"scope": None}, "invalid_scope", id="no-scope"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
    ],
)
def test_bad_requests_go_back_to_the_requester_with_the_error(
    overrides: dict[str, str | None], error: str, client: TestClient, backend: Backend
) -> None:
    requester = register(backend)
    url = authorize_url(requester, pkce()[1], state="s1", **overrides)
    response = client.get(url, follow_redirects=False)  # signed out: no sign-in for a bad request
    assert response.status_code == 302, response.text
    params = redirect_params(response)
    assert params["error"] == error
    assert params["state"] == "s1"
    assert "code" not in params


def test_a_type_the_requester_was_not_registered_for_is_invalid_scope(client: TestClient, backend: Backend) -> None:
    requester = register(backend, types=("birth-certificate",), known_types=("birth-certificate", "income-certificate"))
    response = client.get(authorize_url(requester, pkce()[1], scope=INCOME), follow_redirects=False)
    assert response.status_code == 302
    assert redirect_params(response)["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"redirect_uri": "https://evil.example/steal"}, id="unregistered-uri"),
        pytest.param({"redirect_uri": REDIRECT_URI + "/x"}, id="not-an-exact-match"),
        pytest.param({"client_id": "rq_nobody"}, id="unknown-client"),
        pytest.param({"client_id": None}, id="no-client"),
    ],
)
def test_no_redirect_to_an_unverified_uri(
    overrides: dict[str, str | None], client: TestClient, backend: Backend
) -> None:
    requester = register(backend)
    response = client.get(authorize_url(requester, pkce()[1], **overrides), follow_redirects=False)
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert 'data-testid="oauth-error"' in response.text
    assert "code=" not in response.text


def test_a_requester_with_several_uris_must_name_one(client: TestClient, backend: Backend) -> None:
    requester = register(backend, redirect_uris=(REDIRECT_URI, "https://bank.example/other"))
    response = client.get(authorize_url(requester, pkce()[1], redirect_uri=None), follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_approving_needs_the_form_token(client: TestClient, backend: Backend) -> None:
    requester = register(backend)
    url = authorize_url(requester, pkce()[1])
    consent_page(client, backend, new_mobile(), url)
    response = client.post(url, data={"csrf": "forged", "decision": "approve"}, follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_approving_signed_out_goes_to_sign_in(client: TestClient, backend: Backend) -> None:
    url = authorize_url(register(backend), pkce()[1])
    response = client.post(url, data={"decision": "approve"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/locker/sign-in?next=")


# --- the token request ------------------------------------------------------------------------


def test_a_wrong_verifier_is_invalid_grant(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    response = exchange(client, approved.requester, approved.code, pkce()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_no_verifier_is_refused(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    response = exchange(client, approved.requester, approved.code, None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_code_works_once_and_its_reuse_revokes_the_token(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    headers = access_token(client, approved)
    assert client.get("/api/v1/requester/documents", headers=headers).status_code == 200

    again = exchange(client, approved.requester, approved.code, approved.verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))


def test_another_clients_code_is_invalid_grant(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    thief = register(backend)
    response = exchange(client, thief, approved.code, approved.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # The code is still good for the client it was issued to.
    assert exchange(client, approved.requester, approved.code, approved.verifier).status_code == 200


def test_the_redirect_uri_must_match_the_request(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    response = exchange(
        client, approved.requester, approved.code, approved.verifier, redirect_uri="https://bank.example/other"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_lives_ten_minutes(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10, seconds=5)):
        response = exchange(client, approved.requester, approved.code, approved.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("post_auth", [False, True], ids=["basic", "post"])
def test_a_wrong_secret_is_invalid_client(post_auth: bool, client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    impostor = Client(approved.requester.client_id, "not-the-secret", approved.requester.name)
    response = exchange(client, impostor, approved.code, approved.verifier, post_auth=post_auth)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # Nothing was spent: the real client still gets its token.
    assert exchange(client, approved.requester, approved.code, approved.verifier).status_code == 200


def test_no_client_authentication_is_invalid_client(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": approved.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": approved.verifier,
            "client_id": approved.requester.client_id,
        },
    )
    assert response.json()["error"] == "invalid_client"


def test_a_plain_http_deployment_is_refused_by_authlib(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    settings = backend.settings.model_copy(update={"public_base_url": "http://sanad.example"})
    with TestClient(create_app(context=replace(backend.context, settings=settings))) as insecure:
        response = exchange(insecure, approved.requester, approved.code, approved.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "insecure_transport"


# --- tokens end -------------------------------------------------------------------------------------


def test_an_expired_token_is_refused(client: TestClient, backend: Backend) -> None:
    headers = access_token(client, approve(client, backend))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, seconds=5)):
        assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))


def test_tokens_are_stored_hashed_with_their_expiry(client: TestClient, backend: Backend) -> None:
    headers = access_token(client, approve(client, backend))
    token = headers["Authorization"].split()[1]
    with backend.context.sessions() as s:
        row = s.scalar(select(AccessToken).where(AccessToken.token_hash == sha256_hex(token)))
        assert row is not None
        assert row.expires_at - row.issued_at == timedelta(hours=1)
        s.execute(update(AccessToken).where(AccessToken.token_hash == row.token_hash).values(expires_at=row.issued_at))
        s.commit()
    assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))


def test_requests_without_a_usable_token_are_401(client: TestClient) -> None:
    missing = client.get("/api/v1/requester/documents")
    assert missing.status_code == 401
    assert missing.json()["error"] == "missing_authorization"
    assert_invalid_token(client.get("/api/v1/requester/documents", headers={"Authorization": "Bearer nonsense"}))


def test_the_requester_revokes_its_token(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)
    headers = access_token(client, approved)
    token = headers["Authorization"].split()[1]
    other = register(backend)
    refused = client.post("/oauth/revoke", data={"token": token}, auth=other.basic)
    assert refused.status_code == 400  # not its token
    assert client.get("/api/v1/requester/documents", headers=headers).status_code == 200

    response = client.post(
        "/oauth/revoke", data={"token": token, "token_type_hint": "access_token"}, auth=approved.requester.basic
    )
    assert response.status_code == 200, response.text
    assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))
    # Revoking an unknown or already revoked token is not an error (RFC 7009 §2.2).
    assert client.post("/oauth/revoke", data={"token": token}, auth=approved.requester.basic).status_code == 200
    wrong = Client(approved.requester.client_id, "wrong", "")
    assert client.post("/oauth/revoke", data={"token": token}, auth=wrong.basic).json()["error"] == "invalid_client"


# --- the citizen's side -------------------------------------------------------------------------------


def test_the_citizen_sees_and_revokes_a_grant_through_the_api(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    issue_to(client, dept, mobile)
    approved = approve(client, backend, mobile=mobile)
    headers = access_token(client, approved)
    citizen = sign_in(client, backend, mobile)

    grants = client.get("/api/v1/locker/grants", headers=citizen)
    assert grants.status_code == 200
    [grant] = grants.json()
    assert grant["name"] == approved.requester.name
    assert grant["client_id"] == approved.requester.client_id
    assert grant["types"] == ["income-certificate"]
    lasts = datetime.fromisoformat(grant["expires_at"]) - datetime.fromisoformat(grant["granted_at"])
    assert timedelta(hours=1) <= lasts < timedelta(hours=1, minutes=1)  # the token's hour, from the exchange

    # Another citizen can neither see nor revoke it.
    stranger = sign_in(client, backend, new_mobile())
    assert client.get("/api/v1/locker/grants", headers=stranger).json() == []
    assert client.delete(f"/api/v1/locker/grants/{grant['id']}", headers=stranger).status_code == 404

    assert client.delete(f"/api/v1/locker/grants/{grant['id']}", headers=citizen).status_code == 204
    assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))
    assert client.get("/api/v1/locker/grants", headers=citizen).json() == []
    assert client.delete(f"/api/v1/locker/grants/{grant['id']}", headers=citizen).status_code == 409


def test_the_citizen_revokes_on_the_connected_page(client: TestClient, backend: Backend) -> None:
    approved = approve(client, backend)  # the browser stays signed in as this citizen
    headers = access_token(client, approved)

    page = client.get("/locker/connected")
    assert page.status_code == 200
    assert approved.requester.name in page.text
    grant_id = re.search(r'data-grant="([^"]+)"', page.text)
    assert grant_id
    forged = client.post(f"/locker/connected/{grant_id.group(1)}/revoke", data={"csrf": "x"}, follow_redirects=False)
    assert forged.status_code == 400
    assert client.get("/api/v1/requester/documents", headers=headers).status_code == 200

    done = client.post(
        f"/locker/connected/{grant_id.group(1)}/revoke", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert_invalid_token(client.get("/api/v1/requester/documents", headers=headers))
    after = client.get(done.headers["location"])
    assert 'data-testid="no-grants"' in after.text
    assert approved.requester.name not in after.text


def test_the_connected_page_needs_sign_in(client: TestClient) -> None:
    response = client.get("/locker/connected", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/locker/sign-in?next=%2Flocker%2Fconnected"


# --- registration ---------------------------------------------------------------------------------


def test_sanad_requester_add_prints_the_secret_once_and_stores_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'sanad.db'}"
    monkeypatch.setenv("SANAD_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    args = ["requester", "add", "--name", "ABC Bank", "--redirect-uri", REDIRECT_URI, "--types", "income-certificate"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id:\s+(\S+)", result.output)
    secret = re.search(r"client_secret:\s+(\S+)", result.output)
    assert client_id
    assert secret
    assert INCOME in result.output
    with engine.connect() as connection:
        row = connection.execute(select(Requester).where(Requester.client_id == client_id.group(1))).one()
    assert row.secret_hash == sha256_hex(secret.group(1))
    assert secret.group(1) not in str(tuple(row))

    bad = CliRunner().invoke(
        cli, ["requester", "add", "--name", "X", "--redirect-uri", "http://bank.example/cb", "--types", "nope"]
    )
    assert bad.exit_code != 0
    engine.dispose()


# --- requester tokens: the authorization matrix --------------------------------------------------------


@dataclass
class Scene:
    token: dict[str, str]
    granted: str
    other_type: str
    strangers: str


Read = Callable[[TestClient, str, dict[str, str]], httpx.Response]

READS: dict[str, Read] = {
    "record": lambda c, doc, h: c.get(f"/api/v1/requester/documents/{doc}", headers=h),
    "content": lambda c, doc, h: c.get(f"/api/v1/requester/documents/{doc}/content", headers=h, follow_redirects=False),
}


@pytest.fixture
def scene(client: TestClient, backend: Backend, dept: IssuingDepartment) -> Scene:
    mobile = new_mobile()
    granted = issue_to(client, dept, mobile)["id"]
    other_type = issue_to(client, dept, mobile)["id"]
    retype(backend, other_type, "birth-certificate")
    strangers = issue_to(client, dept, new_mobile())["id"]
    return Scene(
        access_token(client, approve(client, backend, mobile=mobile)), str(granted), str(other_type), str(strangers)
    )


@pytest.mark.parametrize("read", READS.keys())
@pytest.mark.parametrize("target", ["other_type", "strangers", "missing"])
def test_a_requester_reads_nothing_beyond_its_grant(read: str, target: str, client: TestClient, scene: Scene) -> None:
    document_id = "a" * 26 if target == "missing" else getattr(scene, target)
    response = READS[read](client, document_id, scene.token)
    assert response.status_code == 404, response.text
    assert response.json() == {"error": "not_found", "detail": "no such document among those shared with you"}
    assert READS[read](client, scene.granted, scene.token).status_code in (200, 307)
    listed = {d["id"] for d in client.get("/api/v1/requester/documents", headers=scene.token).json()["items"]}
    assert listed == {scene.granted}


# --- a real browser ----------------------------------------------------------------------------------


def test_allow_in_chromium_returns_to_the_requester(backend: Backend) -> None:
    if backend.name != "embedded":
        pytest.skip("the pages do not depend on the backend; one browser run is enough")
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    arrivals: list[str] = []

    class Bank(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrivals.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    bank = HTTPServer(("127.0.0.1", 0), Bank)
    threading.Thread(target=bank.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{bank.server_address[1]}/cb"
    requester = register(backend, redirect_uris=(callback,))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sanad = uvicorn.Server(uvicorn.Config(create_app(context=backend.context), port=port, log_level="warning"))
    threading.Thread(target=sanad.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not sanad.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    mobile = new_mobile()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(
                f"http://127.0.0.1:{port}" + authorize_url(requester, pkce()[1], redirect_uri=callback, state="b1")
            )
            page.fill("#mobile", mobile)
            page.click("button[type=submit]")
            page.fill("#code", latest_code(backend, mobile))
            page.click("form[action='/locker/sign-in'] button[type=submit]")
            page.wait_for_selector("#consent-form")
            page.click("button[value=approve]")
            page.wait_for_timeout(1000)
            browser.close()
    finally:
        sanad.should_exit = True
        bank.shutdown()
        bank.server_close()
    callbacks = [path for path in arrivals if path.startswith("/cb?")]  # the browser also asks for /favicon.ico
    assert len(callbacks) == 1, arrivals
    assert parse_qs(urlparse(callbacks[0]).query).keys() == {"code", "state"}
    assert callbacks[0].endswith("&state=b1")
