"""The examples of the README and of every docs page run against the real service.

The runnable examples are the ```console blocks. In them a line starting
with `$ ` is a command, following lines that start with whitespace continue
it, and the other lines up to the next command are what it prints. Each
page runs on a service of its own, started fresh with the defaults of
`make serve`: every command of every block of the page, in page order, in
one bash process whose working directory holds the service's data directory
as `shards/` (as after `make serve` in the repository root), with the
`tracker` command of this checkout on the PATH and the pages' address
`http://127.0.0.1:8000` replaced by the test service's.

Output is compared line by line, blank lines left out. A line that is JSON
on the page must be JSON printing the same structure: the same keys, the
same values, except that values varying between runs (the keys in `VARYING`:
timestamps, window bounds, bucket starts, cursors) need only the same JSON
type, and a `"..."` element of an array stands for any number of elements
(those before it must match the start of the array, those after it the
end). Any other line must be printed exactly, except that `...` in it
stands for any text (a byte count, say).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGE_ADDRESS = "http://127.0.0.1:8000"
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
VARYING = frozenset({"timestamp", "startTime", "lastActivity", "from", "to", "t", "nextCursor",
                     "requestedAt", "finishedAt", "visitDuration", "created"})
ELIDED = "..."


@dataclass
class Example:
    command: str
    shown: list[str] = field(default_factory=list)


def page_examples(text: str) -> list[Example]:
    examples: list[Example] = []
    for block in CONSOLE_BLOCK.findall(text):
        assert block.startswith("$ "), f"a console block starts with a command: {block[:60]!r}"
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append(Example(line[2:]))
            elif line[:1].isspace() and line.strip() and not examples[-1].shown:
                examples[-1].command += "\n" + line
            elif line.strip():
                examples[-1].shown.append(line)
    return examples


def run_in_bash(commands: list[str], cwd: Path, timeout: float = 120) -> list[list[str]]:
    """Each command's output lines (stdout and stderr, blank lines left out), run in one shell."""
    marker = f"--- end of command {uuid.uuid4().hex} ---"
    script = "exec 2>&1\n" + "".join(f"{c}\nprintf '\\n%s\\n' '{marker}'\n" for c in commands)
    # `tracker` is this checkout's command, as in an activated virtual environment.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, "PATH": path})
    outputs = result.stdout.split(f"\n{marker}\n")
    assert len(outputs) == len(commands) + 1, result.stdout
    return [[line for line in output.splitlines() if line.strip()] for output in outputs[:-1]]


def same_line(shown: str, printed: str) -> bool:
    try:
        expected = json.loads(shown)
    except ValueError:
        return same_text(shown, printed)
    try:
        return same_json(expected, json.loads(printed))
    except ValueError:
        return False


def same_text(shown: str, printed: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in shown.split(ELIDED))
    return re.fullmatch(pattern, printed) is not None


def same_json(shown, printed, key: str | None = None) -> bool:
    if key in VARYING:
        return type(shown) is type(printed)
    if isinstance(shown, dict):
        return (isinstance(printed, dict) and shown.keys() == printed.keys()
                and all(same_json(value, printed[k], k) for k, value in shown.items()))
    if isinstance(shown, list):
        return isinstance(printed, list) and same_list(shown, printed)
    return type(shown) is type(printed) and shown == printed


def same_list(shown: list, printed: list) -> bool:
    if ELIDED not in shown:
        return len(shown) == len(printed) and all(map(same_json, shown, printed))
    cut = shown.index(ELIDED)
    head, tail = shown[:cut], shown[cut + 1:]
    if len(printed) < len(head) + len(tail):
        return False
    return (all(map(same_json, head, printed[:len(head)]))
            and all(map(same_json, tail, printed[len(printed) - len(tail):])))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "shards"


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def has_examples(page: Path) -> bool:
    return CONSOLE_BLOCK.search(page.read_text()) is not None


@pytest.mark.skipif(shutil.which("curl") is None,
                    reason="curl is missing: apt-get install curl (make test does it when run as root)")
@pytest.mark.parametrize("page", [p for p in PAGES if has_examples(p)], ids=page_id)
def test_every_example_prints_what_the_page_shows(tracker_server, data_dir, page):
    # The defaults `make serve` has: 16 shards, a read token generated into shards/read-token.
    service = tracker_server(TRACKER_SHARDS="16", TRACKER_READ_TOKEN="")
    examples = page_examples(page.read_text())
    commands = [e.command.replace(PAGE_ADDRESS, service.url) for e in examples]
    outputs = run_in_bash(commands, cwd=data_dir.parent)
    for example, printed in zip(examples, outputs):
        shown = example.shown
        assert len(printed) == len(shown) and all(map(same_line, shown, printed)), (
            f"\n{page_id(page)}:\n$ {example.command}\nthe page shows:\n" + "\n".join(shown)
            + "\nprinted:\n" + "\n".join(printed))


def test_the_readme_and_the_docs_hold_examples():
    assert has_examples(ROOT / "README.md")
    assert sum(map(has_examples, PAGES)) >= 4


# ```sh blocks show what cannot run to an end here (a stream that never closes).
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_curl_on_the_page_is_in_a_command_the_test_runs(page):
    text = page.read_text()
    in_commands = sum(e.command.count("curl ") for e in page_examples(text))
    endless = sum(block.count("curl ") for block in SH_BLOCK.findall(text))
    assert text.count("curl ") - endless == in_commands


@pytest.mark.parametrize("shown, printed, same", [
    ('{"a":1,"timestamp":5}', '{"timestamp":6,"a":1}', True),
    ('{"a":1}', '{"a":2}', False),
    ('{"a":1}', '{"a":1,"b":2}', False),
    ('{"nextCursor":"MTc5"}', '{"nextCursor":null}', False),
    ('{"to":1}', '{"to":"1"}', False),
    ('{"s":[{"t":1,"n":0},"..."]}', '{"s":[{"t":9,"n":0},{"t":10,"n":4}]}', True),
    ('{"s":[{"t":1,"n":0},"..."]}', '{"s":[{"t":9,"n":1}]}', False),
    ('{"s":["...",2]}', '{"s":[1,2]}', True),
    ('{"s":["...",2]}', '{"s":[]}', False),
    ('{"s":[1,2]}', '{"s":[1]}', False),
    ('tracker_events_ingested_total 3.0', 'tracker_events_ingested_total 3.0', True),
    ('tracker_events_ingested_total 3.0', 'tracker_events_ingested_total 4.0', False),
    ('{"a":1}', 'not json', False),
    ('backed up 16 shards (... bytes) into b', 'backed up 16 shards (2686976 bytes) into b', True),
    ('backed up 16 shards (... bytes) into b', 'backed up 16 shards (2686976 bytes) into c', False),
    ('a.b', 'axb', False),
])
def test_comparison_rule(shown, printed, same):
    assert same_line(shown, printed) is same
