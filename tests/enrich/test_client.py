"""The client address behind trusted proxies."""

from __future__ import annotations

import pytest

from tracker.enrich.client import TrustedProxies


@pytest.mark.parametrize("peer, forwarded, client", [
    ("10.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("10.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the nearest hop is believed
    ("10.0.0.1", "203.0.113.7, 10.0.0.2", "203.0.113.7"),  # proxies in a chain are skipped
    ("10.1.2.3", "203.0.113.7", "203.0.113.7"),  # a trusted network
    ("203.0.113.9", "203.0.113.7", "203.0.113.9"),  # an untrusted peer cannot name another
    ("10.0.0.1", None, "10.0.0.1"),
    ("10.0.0.1", "10.0.0.2", "10.0.0.2"),  # every hop a proxy: the farthest
])
def test_forwarded_for_is_believed_only_from_trusted_proxies(peer, forwarded, client):
    proxies = TrustedProxies(["10.0.0.1", "10.0.0.2", "10.1.0.0/16"])
    assert proxies.client_of(peer, forwarded) == client
