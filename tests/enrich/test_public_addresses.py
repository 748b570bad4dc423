"""public_addresses: the same answer as `ipaddress` on any text, without its objects.

The brute force is the reading of an address the service made before: parse with
`ipaddress.ip_address`, unwrap an IPv4-mapped IPv6 address, and call it public when
`is_global` and not multicast. Addresses are drawn over the whole space, at and beside the
edges of every block `ipaddress` or the tables know, in every way IPv6 may be written, and as
text `ipaddress` refuses.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.enrich.public_addresses import (
    PUBLIC_IPV4,
    PUBLIC_IPV6,
    SPECIAL_IPV4,
    SPECIAL_IPV6,
    public_address,
)


def brute_force(address: object) -> str | None:
    try:
        parsed = ipaddress.ip_address(address.strip() if isinstance(address, str) else "")
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if not parsed.is_global or parsed.is_multicast:
        return None
    return str(parsed).split("%", 1)[0]


def known_blocks(address: type, network: type, ours: tuple[str, ...]) -> list:
    """Every block either side names: the table's and `ipaddress`'s own lists."""
    theirs = []
    for value in vars(address._constants).values():
        theirs += value if isinstance(value, list) else [value]
    return [network(block) for block in ours] + [n for n in theirs if isinstance(n, network)]


def edges(blocks: list, starts: list[int], bits: int) -> list[int]:
    return sorted({edge + step for block in blocks
                   for edge in (int(block.network_address), int(block.broadcast_address))
                   for step in (-1, 0, 1) if 0 <= edge + step < 1 << bits} | set(starts))


EDGES_IPV4 = edges(known_blocks(ipaddress.IPv4Address, ipaddress.IPv4Network, SPECIAL_IPV4),
                   PUBLIC_IPV4.starts, 32)
EDGES_IPV6 = edges(known_blocks(ipaddress.IPv6Address, ipaddress.IPv6Network, SPECIAL_IPV6),
                   PUBLIC_IPV6.starts, 128)

ipv4_numbers = st.one_of(st.integers(0, (1 << 32) - 1), st.sampled_from(EDGES_IPV4))
ipv6_numbers = st.one_of(st.integers(0, (1 << 128) - 1), st.sampled_from(EDGES_IPV6))
ipv4_texts = ipv4_numbers.map(lambda number: str(ipaddress.IPv4Address(number)))
octet_texts = st.one_of(st.integers(0, 999).map(str), st.sampled_from(
    ["", "00", "01", "007", "0x1", "1e2", "+1", "-1", " 1", "\u0663", "\uff11", "1\n", "256"]))
almost_ipv4 = st.lists(octet_texts, min_size=1, max_size=6).map(".".join)
ipv6_addresses = ipv6_numbers.map(ipaddress.IPv6Address)
ipv6_texts = st.one_of(
    ipv6_addresses.map(str), ipv6_addresses.map(lambda a: a.exploded),
    ipv6_addresses.map(lambda a: a.exploded.upper().replace(":0", ":")),
    ipv4_texts.map(lambda text: f"::ffff:{text}"), ipv4_texts.map(lambda text: f"::{text}"),
    st.lists(st.sampled_from(["", "0", "00000", "1", "ffff", "g", ":", "::", ".", "1.2.3.4",
                              "%", "%eth0", "12345"]), min_size=2, max_size=10).map(":".join),
    st.sampled_from(["::1", "fe80::1%eth0", "2001:db8::1", "2001:4860:4860::8888", "ff02::1",
                     "::", "1::2::3", "::ffff:1.2.3.04", "2001:4860::8888%1",
                     "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8",
                     "2001:4860:4860::8888%", "::ffff:8.8.8.8%eth0"]))
spaced = st.sampled_from(["", " ", "\t", "\n", "\u3000"])
texts = st.tuples(spaced, st.one_of(ipv4_texts, almost_ipv4, ipv6_texts, st.text()), spaced) \
    .map("".join)


@settings(max_examples=3000, deadline=None, database=None)
@given(texts)
@example("8.8.8.8")
@example("100.64.0.0")
@example(" 100.127.255.255 ")
@example("::ffff:100.128.0.0")
@example("8.8.8.8\x00")
@example("8.8.8.\ud800")
def test_public_address_is_what_ipaddress_says(text):
    assert public_address(text) == brute_force(text)


@settings(max_examples=2000, deadline=None, database=None)
@given(st.one_of(ipv4_numbers.map(ipaddress.IPv4Address), ipv6_addresses))
def test_every_edge_of_every_block_is_classed_as_ipaddress_does(address):
    assert public_address(str(address)) == brute_force(str(address))


@pytest.mark.parametrize("value", [None, 8, b"8.8.8.8", ["8.8.8.8"]])
def test_a_value_that_is_not_text_is_not_public(value):
    assert public_address(value) is None
