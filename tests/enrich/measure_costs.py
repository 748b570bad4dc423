"""Per-call costs of tracker.enrich, cold and cached: `.venv/bin/python tests/enrich/measure_costs.py`.

Cold calls use headers no cache has seen (a real header with a distinct
suffix); cached calls repeat one header. First-use costs (loading rules and
lists) are measured once, in a fresh process, before anything else.
"""

from __future__ import annotations

import time

ROUNDS = 5000
HEADERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
PAGE_VIEW = {"path": "/", "host": "shop.example", "referrer": "https://www.google.co.uk/search?q=shoes",
             "utm": {"source": "newsletter", "medium": "email", "campaign": "spring"}}


def once(label: str, call) -> None:
    started = time.perf_counter()
    call()
    print(f"{label:44} {(time.perf_counter() - started) * 1000:9.1f} ms")


def per_call(label: str, call, arguments: list) -> None:
    started = time.perf_counter()
    for argument in arguments:
        call(argument)
    print(f"{label:44} {(time.perf_counter() - started) / len(arguments) * 1e6:9.2f} us")


def distinct_headers(tag: str) -> list[str]:
    return [f"{HEADERS[i % len(HEADERS)]} {tag}/{i}" for i in range(ROUNDS)]


def main() -> None:
    from tracker.enrich import bots, geo, sources, useragent, visitor_ids

    print("first use in a process (rules and lists loaded once):")
    once("  useragent.parse", lambda: useragent.parse(HEADERS[0]))
    once("  bots.is_bot", lambda: bots.is_bot(HEADERS[0]))
    once("  sources.visit_source", lambda: sources.visit_source(PAGE_VIEW))
    once("  geo.country", lambda: geo.country("8.8.8.8"))
    print("per call:")
    per_call("  useragent.parse, new header", useragent.parse, distinct_headers("cold"))
    per_call("  useragent.parse, cached header", useragent.parse, [HEADERS[1]] * ROUNDS)
    per_call("  bots.is_bot, new browser header", bots.is_bot, distinct_headers("fresh"))
    per_call("  bots.is_bot, new library header", bots.is_bot, [f"okhttp/4.{i}.0" for i in range(ROUNDS)])
    per_call("  bots.is_bot, cached header", bots.is_bot, [HEADERS[1]] * ROUNDS)
    per_call("  geo.country, public IPv4", geo.country, [f"81.2.{i % 250}.{i % 200 + 1}" for i in range(ROUNDS)])
    per_call("  geo.country, IPv6", geo.country, ["2001:4860:4860::8888"] * ROUNDS)
    per_call("  sources.visit_source, same page view", sources.visit_source, [PAGE_VIEW] * ROUNDS)
    per_call("  sources.visit_source, new referrer", sources.visit_source,
             [{**PAGE_VIEW, "referrer": f"https://blog{i}.example/post", "utm": None} for i in range(ROUNDS)])
    salt = bytes(32)
    per_call("  visitor_ids.visitor_id", lambda ua: visitor_ids.visitor_id(salt, "203.0.113.9", ua),
             [HEADERS[0]] * ROUNDS)
    per_call("  visitor_ids.new_session_id", lambda _: visitor_ids.new_session_id(), [None] * ROUNDS)


if __name__ == "__main__":
    main()
