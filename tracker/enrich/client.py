"""Which address a request comes from: the TCP peer, or the client its trusted proxies name.

Rate limiting and anonymous visitor ids both use this rule, so a visitor
behind a proxy is counted and limited by the same address. Proxies set up
for Plausible name the client in the headers Plausible reads, in its order
(`X-Plausible-IP`, `CF-Connecting-IP`, `B-Forwarded-For`, `X-Forwarded-For`,
`Forwarded`): Plausible's Events API path reads those, from trusted proxies
only, like the rest.
"""

from __future__ import annotations

import ipaddress
import re
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


# Plausible's headers naming the client, in the order it reads them, and whether each is a
# list of hops (the nearest untrusted one is the client) rather than one address.
PLAUSIBLE_HEADERS = ((b"x-plausible-ip", False), (b"cf-connecting-ip", False),
                     (b"b-forwarded-for", True), (b"x-forwarded-for", True), (b"forwarded", True))
FORWARDED_FOR = re.compile(r'for=("[^"]*"|[^;,\s]*)', re.IGNORECASE)
PORT = re.compile(r"^\[([^\]]*)\](?::\d+)?$|^(\d+\.\d+\.\d+\.\d+):\d+$")


def plausible_client_address(scope: Scope, proxies: TrustedProxies) -> str:
    """The client as Plausible reads it, from a trusted peer's headers only."""
    peer = scope["client"][0] if scope.get("client") else ""
    if not proxies or peer not in proxies:
        return peer
    found = dict(PLAUSIBLE_HEADERS)
    headers = {key: value.decode("latin-1") for key, value in scope["headers"] if key in found}
    for name, is_list in PLAUSIBLE_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        if not is_list:
            return without_port(value.strip())
        hops = forwarded_hops(value) if name == b"forwarded" else value
        return without_port(proxies.client_of(peer, hops))
    return peer


def forwarded_hops(header: str) -> str:
    """The `for=` addresses of a `Forwarded` header, as an `X-Forwarded-For` list."""
    return ", ".join(match.strip('"') for match in FORWARDED_FOR.findall(header))


def without_port(address: str) -> str:
    """An address without a port or the brackets around an IPv6 address."""
    match = PORT.match(address)
    return next(group for group in match.groups() if group is not None) if match else address
