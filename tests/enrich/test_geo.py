"""geo: offline country of public addresses; region and city from a MaxMind-format database."""

from __future__ import annotations

import pytest

from tracker.enrich.geo import CityLookup, GeoDatabaseError, Location, country, location_of

COUNTRIES = [
    ("google dns", "8.8.8.8", "US"),
    ("cloudflare dns", "1.1.1.1", "AU"),
    ("a british block", "81.2.69.142", "GB"),
    ("surrounding spaces", " 8.8.8.8 ", "US"),
    ("google dns over ipv6", "2001:4860:4860::8888", "US"),
    ("ipv4 written as ipv6", "::ffff:8.8.8.8", "US"),
    ("a block the registry gives to EU", "139.191.1.1", None),
    ("private 10/8", "10.1.2.3", None),
    ("private 192.168/16", "192.168.1.1", None),
    ("private 172.16/12", "172.16.5.4", None),
    ("shared cgnat space", "100.64.0.1", None),
    ("loopback", "127.0.0.1", None),
    ("ipv6 loopback", "::1", None),
    ("link-local", "169.254.1.1", None),
    ("ipv6 link-local with zone", "fe80::1%eth0", None),
    ("ipv6 unique local", "fd00::1", None),
    ("documentation range", "2001:db8::1", None),
    ("multicast", "224.0.0.1", None),
    ("unspecified", "0.0.0.0", None),
    ("not an address", "example.com", None),
    ("empty", "", None),
]


@pytest.mark.parametrize("name, address, expected", COUNTRIES, ids=[row[0] for row in COUNTRIES])
def test_country(name, address, expected):
    assert country(address) == expected


@pytest.mark.parametrize("address", [None, 8, ["8.8.8.8"]])
def test_country_of_a_value_that_is_not_text_is_none(address):
    assert country(address) is None


LONDON = {"country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
          "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
          "city": {"names": {"en": "London", "de": "London"}}}
MUNICH = {"country": {"iso_code": "DE"},
          "subdivisions": [{"iso_code": "BY", "names": {"de": "Bayern"}}, {"iso_code": "091"}],
          "city": {"names": {"en": "Munich"}}}
COUNTRY_ONLY = {"registered_country": {"iso_code": "FR"}}


@pytest.fixture(scope="module")
def city_db(tmp_path_factory):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    writer.insert_network(IPSet(["81.2.69.0/24"]), LONDON)
    writer.insert_network(IPSet(["2a02:ff0::/32"]), MUNICH)
    writer.insert_network(IPSet(["5.5.5.0/24"]), COUNTRY_ONLY)
    writer.insert_network(IPSet(["6.6.6.0/24"]), {"city": "not a map", "subdivisions": "nor a list"})
    path = tmp_path_factory.mktemp("geoip") / "city.mmdb"
    writer.to_db_file(str(path))
    return path


CITIES = [
    ("ipv4 with every field", "81.2.69.142", Location("GB", "England", "London")),
    ("ipv6, region without an english name", "2a02:ff0::1", Location("DE", "BY", "Munich")),
    ("registered country only", "5.5.5.5", Location("FR", None, None)),
    ("fields of the wrong shape", "6.6.6.6", Location(None, None, None)),
    ("public but not in the database", "8.8.8.8", Location(None, None, None)),
    ("private, never looked up", "10.0.0.1", Location(None, None, None)),
    ("not an address", "nonsense", Location(None, None, None)),
]


@pytest.mark.parametrize("name, address, expected", CITIES, ids=[row[0] for row in CITIES])
def test_city_lookup(city_db, name, address, expected):
    with CityLookup(city_db) as cities:
        assert cities.lookup(address) == expected


def test_city_lookup_in_an_ipv4_only_database_of_an_ipv6_address(tmp_path):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=4)
    writer.insert_network(IPSet(["81.2.69.0/24"]), LONDON)
    writer.to_db_file(str(tmp_path / "v4.mmdb"))
    with CityLookup(tmp_path / "v4.mmdb") as cities:
        assert cities.lookup("2a02:ff0::1") == Location(None, None, None)
        assert cities.lookup("81.2.69.1").city == "London"


def test_a_missing_database_is_a_named_error(tmp_path):
    with pytest.raises(GeoDatabaseError, match="city.mmdb"):
        CityLookup(tmp_path / "city.mmdb")


def test_a_file_that_is_not_a_database_is_a_named_error(tmp_path):
    path = tmp_path / "city.mmdb"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(GeoDatabaseError, match="not a MaxMind-format database"):
        CityLookup(path)


@pytest.mark.parametrize("record", [None, "text", 7, [], {"country": "GB"}, {"subdivisions": [None]}])
def test_location_of_odd_records_is_nowhere(record):
    assert location_of(record) == Location(None, None, None)
