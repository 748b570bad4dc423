"""How often tracker.enrich agrees with peers' own test cases: `.venv/bin/python tests/enrich/measure_agreement.py`.

Prints, for each ported table, the cases agreed with and the ones that differ:
Plausible's channel and source cases (`plausible_cases.py`), Matomo's
device fixtures (`matomo_devices.py`) and the bot tables (`bot_cases.py`).
To measure another checkout (an older release), put its root first on
`PYTHONPATH`: the tables are read from this directory, the code from there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def report(label: str, cases: Iterable[tuple[object, object]], answer: Callable[[object], object],
           show: int = 12) -> None:
    rows = list(cases)
    wrong = [(given, expected, answer(given)) for given, expected in rows]
    wrong = [row for row in wrong if row[1] != row[2]]
    agreed = len(rows) - len(wrong)
    print(f"{label:40} {agreed:4}/{len(rows):<4} {agreed / len(rows):6.1%}")
    for given, expected, got in wrong[:show]:
        print(f"    {str(given)[:90]:90} expected {expected!r}, got {got!r}")


def main() -> None:
    import bot_cases
    import matomo_devices
    import plausible_cases

    from tracker.enrich import bots, sources, useragent

    print(f"tracker from {Path(sources.__file__).parents[2]}")
    report("Plausible channels (acquisition_test)", plausible_cases.CHANNELS,
           lambda data: sources.visit_source(data).channel)
    report("Plausible sources (source_test)", plausible_cases.SOURCES,
           lambda host: sources.visit_source({"referrer": f"https://{host}/"}).source)
    report("Matomo devices (fixtures sample)", matomo_devices.DEVICES,
           lambda header: useragent.parse(header).device)
    for name in ("CRAWLER_DETECT", "MATOMO_BOTS", "MATOMO_LIBRARIES", "MAKERS"):
        report(f"bots: {name}", [(header, True) for header in getattr(bot_cases, name)], bots.is_bot, show=6)
    report("bots: PEOPLE pass", [(header, False) for header in bot_cases.PEOPLE], bots.is_bot)


if __name__ == "__main__":
    main()
