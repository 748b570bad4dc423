"""Where a client address is: country offline, region and city from an optional database.

`country(address)` gives the ISO 3166-1 alpha-2 code of the country an
address block is registered to, from the Regional Internet Registries' data
that the iptocc package ships inside its wheel (refreshed with each release;
nothing is downloaded). Private, loopback, link-local, shared (CGNAT),
documentation and other non-global addresses, unparsable text and blocks the
registries assign to no single country (`EU`, `AP`) give None. An IPv4
address written as IPv6 (`::ffff:8.8.8.8`) is looked up as IPv4.

`CityLookup(path)` reads a MaxMind-format `.mmdb` city database
(`TRACKER_GEOIP_DB`: GeoLite2-City, GeoIP2-City, DB-IP City Lite, ...) and
gives a `Location(country, region, city)`: the country's ISO code, the English
name of the largest subdivision (state, province) and of the city.

Privacy: the address is only read; nothing here writes, logs or keeps it,
not even in a cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import iptocc
import maxminddb
import msgspec

from tracker.enrich.public_addresses import public_address

NOT_COUNTRIES = frozenset({"EU", "AP"})
"""Registry codes for blocks shared by a region, not ISO 3166-1 countries."""


class Location(msgspec.Struct, frozen=True):
    """Country code, region and city of an address; None where unknown."""

    country: str | None
    region: str | None
    city: str | None


NOWHERE = Location(country=None, region=None, city=None)


class GeoDatabaseError(Exception):
    """The city database cannot be opened or read; the message names the file."""


def country(address: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a public address, None for private or unknown ones."""
    public = public_address(address)
    if public is None:
        return None
    code = iptocc.country_code(public)
    return None if code in NOT_COUNTRIES else code


class CityLookup:
    """A MaxMind-format city database, opened once and read by `lookup`."""

    def __init__(self, path: str | Path) -> None:
        try:
            self._reader = maxminddb.open_database(str(path))
        except OSError as error:
            raise GeoDatabaseError(f"cannot open GeoIP database {path}: {error.strerror}") from None
        except maxminddb.InvalidDatabaseError:
            raise GeoDatabaseError(f"{path} is not a MaxMind-format database") from None

    def lookup(self, address: str) -> Location:
        """Country, region and city of a public address; all None when unknown."""
        public = public_address(address)
        if public is None:
            return NOWHERE
        try:
            record = self._reader.get(public)
        except ValueError:  # an IPv6 address in an IPv4-only database
            return NOWHERE
        except maxminddb.InvalidDatabaseError as error:
            raise GeoDatabaseError(f"GeoIP database is corrupt: {error}") from None
        return location_of(record)

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> CityLookup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def location_of(record: Any) -> Location:
    """A Location from one record of a MaxMind city database; odd shapes give None fields."""
    code = _text(record, "country", "iso_code") or _text(record, "registered_country", "iso_code")
    subdivisions = record.get("subdivisions") if isinstance(record, dict) else None
    largest = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    return Location(country=None if code in NOT_COUNTRIES else code,
                    region=_text(largest, "names", "en") or _text(largest, "iso_code"),
                    city=_text(record, "city", "names", "en"))


def _text(record: Any, *keys: str) -> str | None:
    """The non-empty string at record[k1][k2]..., or None wherever the shape differs."""
    for key in keys:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record if isinstance(record, str) and record else None
