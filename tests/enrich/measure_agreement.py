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
    import plausible_cases

    from tracker.enrich import sources

    print(f"tracker from {Path(sources.__file__).parents[2]}")
    report("Plausible channels (acquisition_test)", plausible_cases.CHANNELS,
           lambda data: sources.visit_source(data).channel)
    report("Plausible sources (source_test)", plausible_cases.SOURCES,
           lambda host: sources.visit_source({"referrer": f"https://{host}/"}).source)


if __name__ == "__main__":
    main()
