"""The README documents every setting and every command."""

from pathlib import Path

import pytest

from tracker.cli import COMMANDS
from tracker.config import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.env for s in SETTINGS])
def test_every_setting_is_documented(setting):
    assert f"| `{setting.env}` |" in README


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented(command):
    assert f"`tracker {command}" in README
