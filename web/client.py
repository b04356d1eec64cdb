"""The client's own address, for the limits counted per address and the access log.

Behind a reverse proxy every request comes from the proxy, so its ``X-Forwarded-For``
says who the client is; but anyone can send that header, so it is believed only from the
proxies named in ``SANAD_TRUSTED_PROXIES``. (``sanad serve`` has uvicorn apply the same
rule before the app sees the request; this one holds under any server.)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from fastapi import Request

from web.cookies import settings_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed."""

    networks: tuple[Network, ...]
    """Each an address (a network of one) or a network such as ``10.0.0.0/8``."""
    everyone: bool = False
    """``*``: every peer is a trusted proxy (only where nothing else can reach the app)."""

    def __contains__(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: list[str]) -> str:
        """The client behind ``peer``: each trusted proxy appends the address it heard
        from, so the client is the last address, read from the end, that is not a
        trusted proxy (or the first one, if every hop is trusted)."""
        if peer not in self or not forwarded_for:
            return peer
        for hop in reversed(forwarded_for):
            if hop not in self:
                return hop
        return forwarded_for[0]


@lru_cache(maxsize=8)
def trusted_proxies(setting: str) -> TrustedProxies:
    """``SANAD_TRUSTED_PROXIES`` read: comma-separated addresses and networks, or ``*``."""
    names = [name.strip() for name in setting.split(",") if name.strip()]
    if "*" in names:
        return TrustedProxies((), everyone=True)
    return TrustedProxies(tuple(ipaddress.ip_network(name, strict=False) for name in names))


def _forwarded_for(request: Request) -> list[str]:
    return [
        hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",") if hop.strip()
    ]


def client_ip(request: Request) -> str:
    """The client's address; ``unknown`` when the server gives none."""
    if request.client is None:
        return "unknown"
    proxies = trusted_proxies(settings_of(request).trusted_proxies)
    return proxies.client_of(request.client.host, _forwarded_for(request))
