"""A shard of the latest schema for each test of the write pipeline, copied from one made
once per module (migrating a new file is the slow part)."""

from __future__ import annotations

import shutil

import pytest

from tracker.enrich.sources import rederive_functions
from tracker.storage.connections import Role, connect
from tracker.storage.shard_file import create_or_upgrade


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "shard.sqlite"
    create_or_upgrade(path, rederive_functions())
    return path


@pytest.fixture
def shard(tmp_path, template):
    path = tmp_path / "shard.sqlite"
    shutil.copyfile(template, path)
    conn = connect(path, Role.WRITER, "normal")
    yield conn
    conn.close()
