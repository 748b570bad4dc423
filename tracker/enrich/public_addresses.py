"""Whether a client address is globally routable, as `ipaddress` decides it, without parsing
every address into an `ipaddress` object.

An address is read as an integer by the C library's `inet_pton` (which takes
exactly the texts `ipaddress` takes, bar IPv6 zone ids, which go through
`ipaddress` as before) and looked up in a sorted table of runs of the
address space, each wholly public or wholly not. A table is cut at the
edges of every special-purpose block in IANA's registries (those of every
Python release's `ipaddress`, whose lists differ), and each run is classed
once, at import, by `ipaddress` itself: so the answer is the one
`ipaddress` gives on the running Python, at a fraction of the cost per
request. An IPv4 address written as IPv6 (`::ffff:8.8.8.8`) is an IPv4 one.

Privacy: the address is only read; nothing here keeps it, not even in a cache.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket

# IANA's special-purpose blocks and multicast: the only places where `is_global` or
# `is_multicast` can change.
SPECIAL_IPV4 = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32",
    "192.0.0.10/32", "192.0.0.170/31", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "255.255.255.255/32",
)
SPECIAL_IPV6 = (
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
    "2001::/23", "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128",
    "2001:2::/48", "2001:3::/32", "2001:4:112::/48", "2001:10::/28", "2001:20::/28",
    "2001:30::/28", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48", "3fff::/20",
    "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


class Runs:
    """Which runs of one address family's space are public, classed by `ipaddress`."""

    def __init__(self, blocks: tuple[str, ...], version: int):
        cuts = {0}
        for block in (ipaddress.ip_network(text) for text in blocks):
            cuts.add(int(block.network_address))
            cuts.add(int(block.broadcast_address) + 1)
        size = 1 << (32 if version == 4 else 128)
        self.starts = sorted(cut for cut in cuts if cut < size)
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        self.public = [_is_public(make(start)) for start in self.starts]

    def __contains__(self, number: int) -> bool:
        return self.public[bisect.bisect_right(self.starts, number) - 1]


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


PUBLIC_IPV4 = Runs(SPECIAL_IPV4, 4)
PUBLIC_IPV6 = Runs(SPECIAL_IPV6, 6)
NOT_READ = (OSError, ValueError, UnicodeError)  # inet_pton: not an address; a NUL; not ASCII


def public_address(address: object) -> str | None:
    """The address in canonical form when it is a globally routable one, else None."""
    text = address.strip() if isinstance(address, str) else ""
    if ":" not in text:  # IPv4 or nothing: IPv6 needs colons
        try:
            packed = socket.inet_pton(socket.AF_INET, text)
        except NOT_READ:
            return None
        return text if int.from_bytes(packed, "big") in PUBLIC_IPV4 else None
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except NOT_READ:
        return _public_ipv6_slowly(text)
    return _public_ipv6(packed)


def _public_ipv6(packed: bytes) -> str | None:
    number = int.from_bytes(packed, "big")
    if number >> 32 == int(IPV4_MAPPED.network_address) >> 32:
        mapped = packed[12:]
        return socket.inet_ntop(socket.AF_INET, mapped) if int.from_bytes(mapped, "big") \
            in PUBLIC_IPV4 else None
    if number not in PUBLIC_IPV6:
        return None
    if number < 1 << 48:  # C libraries write these with an IPv4 tail (`::1.2.3.4`)
        return str(ipaddress.IPv6Address(packed))
    return socket.inet_ntop(socket.AF_INET6, packed)


def _public_ipv6_slowly(text: str) -> str | None:
    """Through `ipaddress`: for a zone id (`fe80::1%eth0`), which `inet_pton` refuses."""
    try:
        parsed = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    address = parsed if parsed.ipv4_mapped is None else parsed.ipv4_mapped
    if not _is_public(address):
        return None
    return str(address).split("%", 1)[0]
