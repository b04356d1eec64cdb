"""The client's address: X-Forwarded-For is believed from trusted proxies only."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.factory import create_app
from sanad.settings import Settings
from tests.conftest import Backend, client_address
from tests.locker.conftest import new_mobile
from web.client import client_ip


def request_from(peer: str | None, *forwarded_for: str, trusted: str) -> Request:
    settings = Settings(_env_file=None, trusted_proxies=trusted)
    app = SimpleNamespace(state=SimpleNamespace(context=SimpleNamespace(settings=settings)))
    scope = {
        "type": "http",
        "app": app,
        "client": None if peer is None else (peer, 50000),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded_for],
    }
    return Request(scope)


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_ip(request_from("203.0.113.7", "198.51.100.1", trusted="")) == "203.0.113.7"
    assert client_ip(request_from("203.0.113.7", "198.51.100.1", trusted="10.0.0.1")) == "203.0.113.7"


def test_a_trusted_proxy_names_the_client() -> None:
    assert client_ip(request_from("10.0.0.1", "198.51.100.1", trusted="10.0.0.1")) == "198.51.100.1"
    assert client_ip(request_from("10.0.0.1", trusted="10.0.0.1")) == "10.0.0.1"  # nothing forwarded


def test_the_client_is_the_last_address_no_trusted_proxy_added() -> None:
    # The client put an address of its choosing first; only what the proxies added counts.
    chain = request_from("10.0.0.1", "1.2.3.4, 198.51.100.1", "10.0.0.2", trusted="10.0.0.0/8")
    assert client_ip(chain) == "198.51.100.1"
    every_hop_trusted = request_from("10.0.0.1", "10.0.0.3, 10.0.0.2", trusted="10.0.0.0/8")
    assert client_ip(every_hop_trusted) == "10.0.0.3"


def test_a_star_trusts_every_peer_and_ipv6_works() -> None:
    assert client_ip(request_from("203.0.113.7", "198.51.100.1", trusted="*")) == "198.51.100.1"
    assert client_ip(request_from("2001:db8::1", "2001:db8:1::5", trusted="2001:db8::/64")) == "2001:db8:1::5"


def test_no_peer_address_is_unknown() -> None:
    assert client_ip(request_from(None, "198.51.100.1", trusted="*")) == "unknown"


def test_a_malformed_proxy_address_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(_env_file=None, trusted_proxies="10.0.0.1, proxy.internal")
    assert Settings(_env_file=None, trusted_proxies="").trusted_proxies == ""


def test_limits_per_address_count_the_client_behind_a_trusted_proxy(backend: Backend) -> None:
    proxy = client_address()
    settings = backend.settings.model_copy(update={"trusted_proxies": proxy[0]})
    context = replace(backend.context, settings=settings)

    def request_code(client: TestClient, forwarded_for: str) -> int:
        response = client.post(
            "/api/v1/locker/otp", json={"mobile": new_mobile()}, headers={"X-Forwarded-For": forwarded_for}
        )
        return int(response.status_code)

    behind, other = client_address()[0], client_address()[0]
    with TestClient(create_app(context=context), client=proxy) as client:
        assert [request_code(client, behind) for _ in range(20)] == [202] * 20
        assert request_code(client, behind) == 429
        assert request_code(client, other) == 202  # another citizen behind the same proxy
    # From anyone but the proxy the header is ignored: the peer itself is counted.
    with TestClient(create_app(context=context), client=client_address()) as client:
        assert [request_code(client, behind) for _ in range(20)] == [202] * 20
        assert request_code(client, other) == 429
