"""Which address a request comes from: the TCP peer, or the client its trusted proxies name.

Rate limiting and anonymous visitor ids both use this rule, so a visitor
behind a proxy is counted and limited by the same address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope


class TrustedProxies:
    """Which peers may name the client in `X-Forwarded-For`: addresses or networks."""

    def __init__(self, entries: Iterable[str]):
        networks = [ipaddress.ip_network(entry, strict=False) for entry in entries]
        self._addresses = frozenset(str(n.network_address) for n in networks
                                    if n.num_addresses == 1)
        self._networks = tuple(n for n in networks if n.num_addresses > 1)

    def __bool__(self) -> bool:
        return bool(self._addresses or self._networks)

    def __contains__(self, address: str) -> bool:
        if address in self._addresses:
            return True
        if not self._networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def client_of(self, peer: str, forwarded_for: str | None) -> str:
        """The client: the peer itself, or the nearest untrusted hop its proxies name."""
        if forwarded_for is None or peer not in self:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        for hop in reversed(hops):
            if hop and hop not in self:
                return hop
        return hops[0] or peer


def client_address(scope: Scope, proxies: TrustedProxies) -> str:
    """The request's client address (empty when the server knows no peer)."""
    peer = scope["client"][0] if scope.get("client") else ""
    if not proxies:
        return peer
    return proxies.client_of(peer, _forwarded_for(scope))


def _forwarded_for(scope: Scope) -> str | None:
    """Every `X-Forwarded-For` header, joined: a proxy may add its own rather than append."""
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    return ", ".join(values) if values else None
