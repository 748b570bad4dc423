"""The `tracker` command."""

from __future__ import annotations

import argparse
import re

from tracker import cli
from tracker.cli import COMMANDS


def test_the_cli_docstring_names_every_command():
    summary = cli.__doc__.split("\n\n")[0]
    assert set(COMMANDS) <= set(re.findall(r"\w+", summary))


def test_every_command_has_its_parser():
    commands = next(action for action in cli.build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    assert set(commands.choices) == set(COMMANDS)
