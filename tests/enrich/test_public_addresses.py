"""public_addresses: the same answer as `ipaddress` on any text, without its objects for IPv4.

The brute force is the reading of an address the service made before: parse with
`ipaddress.ip_address`, unwrap an IPv4-mapped IPv6 address, and call it public when
`is_global` and not multicast. Addresses are drawn over the whole space, at and beside the
edges of every block `ipaddress` or the table knows, and as text `ipaddress` refuses.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.enrich.public_addresses import RUN_STARTS, SPECIAL_IPV4, ipv4_number, public_address


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


def known_blocks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 block either side names: the table's and `ipaddress`'s own lists."""
    constants = ipaddress.IPv4Address._constants  # type: ignore[attr-defined]
    theirs = [value for value in vars(constants).values()
              if isinstance(value, ipaddress.IPv4Network)]
    for value in vars(constants).values():
        if isinstance(value, list):
            theirs += [item for item in value if isinstance(item, ipaddress.IPv4Network)]
    return [ipaddress.IPv4Network(block) for block in SPECIAL_IPV4] + theirs


EDGES = sorted({edge + step for block in known_blocks()
                for edge in (int(block.network_address), int(block.broadcast_address))
                for step in (-1, 0, 1) if 0 <= edge + step < 1 << 32} | set(RUN_STARTS))

ipv4_numbers = st.one_of(st.integers(0, (1 << 32) - 1), st.sampled_from(EDGES))
ipv4_texts = ipv4_numbers.map(lambda number: str(ipaddress.IPv4Address(number)))
octet_texts = st.one_of(st.integers(0, 999).map(str), st.sampled_from(
    ["", "00", "01", "007", "0x1", "1e2", "+1", "-1", " 1", "\u0663", "\uff11", "1\n", "256"]))
almost_ipv4 = st.lists(octet_texts, min_size=1, max_size=6).map(".".join)
ipv6_texts = st.one_of(
    st.integers(0, (1 << 128) - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
    ipv4_texts.map(lambda text: f"::ffff:{text}"),
    st.sampled_from(["::1", "fe80::1%eth0", "2001:db8::1", "2001:4860:4860::8888", "ff02::1",
                     "::", "1::2::3", "::ffff:1.2.3.04", "2001:4860::8888%1"]))
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
@given(ipv4_numbers)
def test_every_edge_of_every_block_is_classed_as_ipaddress_does(number):
    text = str(ipaddress.IPv4Address(number))
    assert ipv4_number(text) == number
    assert public_address(text) == brute_force(text)


@pytest.mark.parametrize("value", [None, 8, b"8.8.8.8", ["8.8.8.8"]])
def test_a_value_that_is_not_text_is_not_public(value):
    assert public_address(value) is None
