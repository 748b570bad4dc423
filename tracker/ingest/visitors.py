"""What a request tells about its visitor, derived once per request on the event loop.

The context (browser, OS and device from the User-Agent; country, and with
TRACKER_GEOIP_DB region and city, from the client address) is logged with
the request's movements, and the visits table keeps the context of each
visit's first movement. An anonymous visitor's id is a daily-salted hash of
address and User-Agent. The address and the header themselves are never
written anywhere: they leave this module only as these derived values.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tracker.enrich import bots, geo, useragent
from tracker.enrich.visitor_ids import Salts, visitor_id
from tracker.storage.rows import Context, encode_context


class Visitors:
    """Contexts and anonymous ids for one process, with the data directory's daily salts."""

    def __init__(self, data_dir: Path, bot_filter: bool, geoip_db: Path | None,
                 on_lookup: Callable[[str, bool], None] = lambda cache, hit: None):
        self.salts = Salts(data_dir)
        self.bot_filter = bot_filter
        self._cities = None if geoip_db is None else geo.CityLookup(geoip_db)
        self._on_lookup = on_lookup

    def context(self, address: str, user_agent: str | None) -> str | None:
        """The request's context as the log keeps it (None when nothing is known)."""
        hits = useragent.cache_info().hits
        agent = useragent.parse(user_agent)
        self._on_lookup("useragent", useragent.cache_info().hits > hits)
        if self._cities is not None:
            place = self._cities.lookup(address)
            where = (place.country, place.region, place.city)
        else:
            where = (geo.country(address), None, None)
        return encode_context(Context(agent.browser, agent.os, agent.device, *where))

    def is_ignored(self, user_agent: str | None) -> bool:
        """Whether the bot filter drops this request's anonymous events."""
        if not self.bot_filter:
            return False
        hits = bots.cache_info().hits
        ignored = bots.is_bot(user_agent)
        self._on_lookup("bots", bots.cache_info().hits > hits)
        return ignored

    def anonymous_id(self, address: str, user_agent: str | None, now: int, site: int) -> str:
        """The visitor's id on site number `site` (site 0 keyed as before sites existed)."""
        return visitor_id(self.salts.for_time(now), address, user_agent, str(site) if site else "")

    def close(self) -> None:
        if self._cities is not None:
            self._cities.close()
