"""The README documents every setting and command; the cli module names every command."""

import re
from pathlib import Path

import pytest

from tracker import cli
from tracker.cli import COMMANDS
from tracker.config import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.env for s in SETTINGS])
def test_every_setting_is_documented(setting):
    assert f"| `{setting.env}` |" in README


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented(command):
    assert f"`tracker {command}" in README


def test_the_cli_docstring_names_every_command():
    first_line = cli.__doc__.splitlines()[0]
    assert set(COMMANDS) <= set(re.findall(r"\w+", first_line))
