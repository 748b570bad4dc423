"""Whether a client address is globally routable, as `ipaddress` decides it, without parsing
every IPv4 address into an object.

An IPv4 address is read as an integer (by the C library's `inet_pton`, which
takes exactly the dotted quads `ipaddress` takes) and looked up in a sorted table of
runs of the address space, each wholly public or wholly not. The table is
cut at the edges of every special-purpose block in IANA's registry (those
of every Python release's `ipaddress`, whose lists differ), and each run
is classed once, at import, by `ipaddress` itself: so the answer is the one
`ipaddress` gives on the running Python, at a fraction of the cost per
request. IPv6 addresses go through `ipaddress` as before.

Privacy: the address is only read; nothing here keeps it, not even in a cache.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket

# IANA's IPv4 special-purpose blocks and multicast: the only places where `is_global` or
# `is_multicast` can change.
SPECIAL_IPV4 = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32",
    "192.0.0.10/32", "192.0.0.170/31", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "255.255.255.255/32",
)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _runs() -> tuple[list[int], list[bool]]:
    """The first address of each run, ascending, and whether that run is public."""
    cuts = {0}
    for block in map(ipaddress.IPv4Network, SPECIAL_IPV4):
        cuts.add(int(block.network_address))
        cuts.add(int(block.broadcast_address) + 1)
    starts = sorted(cut for cut in cuts if cut < 1 << 32)
    return starts, [_is_public(ipaddress.IPv4Address(start)) for start in starts]


RUN_STARTS, RUN_PUBLIC = _runs()


def public_address(address: object) -> str | None:
    """The address in canonical form when it is a globally routable one, else None."""
    text = address.strip() if isinstance(address, str) else ""
    if ":" not in text:  # IPv4 or nothing: IPv6 needs colons
        number = ipv4_number(text)
        if number is None or not RUN_PUBLIC[bisect.bisect_right(RUN_STARTS, number) - 1]:
            return None
        return text
    return _public_ipv6(text)


def ipv4_number(text: str) -> int | None:
    """The address as an integer, for exactly the dotted quads `ipaddress` takes."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, UnicodeError):  # not a dotted quad; a NUL; not encodable
        return None


def _public_ipv6(text: str) -> str | None:
    try:
        parsed = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    address = parsed if parsed.ipv4_mapped is None else parsed.ipv4_mapped
    if not _is_public(address):
        return None
    return str(address).split("%", 1)[0]
