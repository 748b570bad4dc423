"""Enrichment of visits and anonymous visitors: pure functions, no I/O on the hot path.

- `useragent`: browser, OS and device class of a `User-Agent` header.
- `bots`: whether a `User-Agent` is a crawler, an HTTP library or a headless browser.
- `geo`: country of a client address (offline), and region and city from an
  optional MaxMind-format database.
- `sources`: a visit's referrer, UTM fields, source and channel from its first
  page view's `data`.
- `anonymous`: daily salts and the `anon:` visitor and session ids.

Nothing here stores or logs a client address; each module's docstring says
what it keeps and for how long. Nothing is downloaded at run time: the data
ships in the packages named in `pyproject.toml` or under `enrich/data/`.
"""
