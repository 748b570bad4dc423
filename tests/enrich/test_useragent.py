"""useragent.parse: family names from ua-parser, a device class, and a bounded cache."""

from __future__ import annotations

import pytest
from matomo_devices import DEVICES, DIFFERENT

from tracker.enrich import useragent
from tracker.enrich.useragent import Agent, parse

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")

AGENTS = [
    ("chrome on windows", CHROME_WINDOWS, "Chrome", "Windows", "desktop"),
    ("firefox on linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     "Firefox", "Linux", "desktop"),
    ("safari on a mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", "Mac OS X", "desktop"),
    ("edge on windows", CHROME_WINDOWS + " Edg/131.0.0.0", "Edge", "Windows", "desktop"),
    ("chrome on chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", "Chrome", "Chrome OS", "desktop"),
    ("safari on an iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "mobile"),
    ("chrome on an iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome Mobile iOS", "iOS", "mobile"),
    ("safari on an ipad", "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "tablet"),
    ("chrome on an android phone", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", "Chrome Mobile", "Android", "mobile"),
    ("chrome on an android phone, reduced UA", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "mobile"),
    ("chrome on an android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Android", "tablet"),
    ("samsung internet on a phone", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 "
     "(KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "Android", "mobile"),
    ("firefox on an android phone", "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
     "Firefox Mobile", "Android", "mobile"),
    ("firefox on an android tablet", "Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0",
     "Firefox Mobile", "Android", "tablet"),
    ("silk on a kindle fire", "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Silk/131.3.1 like Chrome/131.0.6778.85 Safari/537.36", "Amazon Silk", "Android", "tablet"),
    ("a windows tablet pc is a desktop", "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0; "
     "Touch; Tablet PC 2.0)", "IE", "Windows", "desktop"),
    ("curl", "curl/8.5.0", "curl", None, "desktop"),
    ("unrecognised text is no device", "nothing a parser knows", None, None, None),
    ("kindle fire hd says Mobile", "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) "
     "AppleWebKit/535.19 (KHTML, like Gecko) Silk/3.4 Mobile Safari/535.19 Silk-Accelerated=true",
     "Amazon Silk", "Android", "tablet"),
    ("a galaxy tab with Mobile", "Mozilla/5.0 (Linux; Android 13; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "tablet"),
    ("an android app's own client is a phone", "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240805.005)",
     "Android", "Android", "mobile"),
    ("a samsung tv", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "76.0.3809.146/6.0 TV Safari/537.36", "Safari", "Tizen", "desktop"),
    ("an lg tv", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 "
     "Safari/537.36 WebAppManager", "Chrome", "Web0S", "desktop"),
    ("an android tv", "Mozilla/5.0 (Linux; Android 12; BRAVIA 4K VH2 Build/STT1.211025.001.Z4) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/114.0.5735.196 Mobile Safari/537.36", "Chrome Mobile", "Android", "desktop"),
    ("a fire tv stick", "Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 Mobile Safari/537.36", "Chrome Mobile WebView",
     "Android", "desktop"),
    ("a playstation", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
     "Apple Mail", None, "desktop"),
    ("an xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edge/44.18363.8131", "Edge", "Windows", "desktop"),
    ("a nintendo switch", "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) "
     "NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393", None, None, "desktop"),
    ("a tesla", "Mozilla/5.0 (X11; GNU/Linux) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/79.0.3945.130 "
     "Chrome/79.0.3945.130 Safari/537.36 Tesla/2024.20.9-bfc3b2a7ac", "Chromium", "Linux", "desktop"),
    ("an apple watch", "atc/1.0 watchOS/6.0 model/Watch4,1 hwp/t8006 build/17R5556d (6; dt:190)",
     "Apple Watch App", "WatchOS", "mobile"),
]


@pytest.mark.parametrize("name, header, browser, os, device", AGENTS, ids=[row[0] for row in AGENTS])
def test_parse_gives_family_names_and_device_class(name, header, browser, os, device):
    assert parse(header) == Agent(browser=browser, os=os, device=device)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_or_blank_header_is_all_unknown(header):
    assert parse(header) == Agent(browser=None, os=None, device=None)


@pytest.mark.parametrize("header, device", DEVICES, ids=[f"{i}" for i in range(len(DEVICES))])
def test_device_class_as_matomo_gives_it(header, device):
    if header in DIFFERENT:
        pytest.skip("only Matomo's device list knows this model")
    assert parse(header).device == device


def test_each_distinct_header_is_parsed_once():
    useragent.cache_clear()
    parse(CHROME_WINDOWS)
    parse(CHROME_WINDOWS)
    parse(CHROME_WINDOWS + " extra")
    info = useragent.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 2, 2)


def test_cache_is_bounded():
    assert useragent.cache_info().maxsize == useragent.CACHE_SIZE == 10_000


def test_headers_are_cut_before_caching_so_an_entry_stays_small():
    useragent.cache_clear()
    padded = CHROME_WINDOWS.ljust(useragent.MAX_LENGTH, " ")
    assert parse(padded + "A" * 5000) == parse(padded + "B" * 9000)
    assert useragent.cache_info().currsize == 1


def test_agent_is_immutable():
    agent = parse(CHROME_WINDOWS)
    with pytest.raises(AttributeError):
        agent.browser = "Firefox"
