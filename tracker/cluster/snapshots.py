"""Snapshots of a shard's files in the `tracker_snapshots` object store, and restoring them.

Every TRACKER_SNAPSHOT_MINUTES the owner of a shard copies each of the
shard's files (one per site) with SQLite's backup API, between two folds,
so that each copy holds exactly the stream prefix its position row names,
packs them into one tar with a manifest of those positions, and replaces the
shard's object (`shard-N`). The manifest also rides in the object's
description, so a node learns a snapshot's positions and age without
downloading it.

Once the new snapshot is stored, the stream's messages of that shard up to
the *previous* snapshot's position are purged, and never past the new one's:
the stream keeps everything newer than the snapshot before the latest (one
interval in hand for the live feed's replays, and for a node still restoring
the previous one), and everything newer than whichever snapshot is stored
last. Snapshots can be stored out of order (an owner that lost its lease
while it uploaded one stores it after the next owner's newer one); without
the second bound, the newer one's position would purge what only the newer
owner's files held.

A node that takes a shard over downloads the latest snapshot and copies
each file in it over its own copy, with the backup API too, when the
snapshot is further along than what it holds; it then folds the stream
from there.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nats.js.errors
from nats.js.api import ObjectMeta

from tracker.cluster import positions
from tracker.cluster.jetstream import STREAM, JetStream, subject
from tracker.storage.connections import Role, connect, copy_database
from tracker.storage.shard_file import ShardFile

MANIFEST = "manifest.json"

RunInThread = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Manifest:
    shard: int
    term: int
    taken: int  # ms since the epoch
    files: dict[str, int]  # site number -> stream position of its copy

    @property
    def position(self) -> int:
        """Every file of the snapshot holds the stream up to here at least."""
        return min(self.files.values(), default=0)

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> Manifest:
        value = json.loads(text)
        return cls(value["shard"], value["term"], value["taken"],
                   {str(k): int(v) for k, v in value["files"].items()})


def name_of(shard: int) -> str:
    return f"shard-{shard}"


async def latest(jet: JetStream, shard: int) -> Manifest | None:
    """The manifest of the shard's stored snapshot, None when there is none yet."""
    try:
        info = await jet.snapshots.get_info(name_of(shard))
    except nats.js.errors.NotFoundError:
        return None
    if info.deleted or not info.description:
        return None
    return Manifest.decode(info.description)


async def take(jet: JetStream, shard: int, files: list[ShardFile], term: int, work_dir: Path,
               run: RunInThread) -> Manifest:
    """Copy the files, store them as the shard's snapshot and purge the stream up to the
    previous one. The caller does not fold the shard meanwhile."""
    previous = await latest(jet, shard)
    place = Path(tempfile.mkdtemp(prefix=f"snapshot-{shard}-", dir=work_dir))
    try:
        manifest, packed = await run(_pack, shard, files, term, place)
        with open(packed, "rb") as source:
            await jet.snapshots.put(name_of(shard), source,
                                    meta=ObjectMeta(name=name_of(shard), description=manifest.encode()))
    finally:
        shutil.rmtree(place, ignore_errors=True)
    upto = 0 if previous is None else min(previous.position, manifest.position)
    if upto > 0:
        await jet.js.purge_stream(STREAM, subject=subject(shard), seq=upto + 1)
    return manifest


def _pack(shard: int, files: list[ShardFile], term: int, place: Path) -> tuple[Manifest, Path]:
    found: dict[str, int] = {}
    packed = place / "snapshot.tar"
    with tarfile.open(packed, "w") as tar:
        for file in files:
            copy = place / f"site-{file.site}.sqlite"
            copy_database(file.path, copy)
            found[str(file.site)] = _position_of(copy)
            tar.add(copy, arcname=copy.name)
            copy.unlink()
        manifest = Manifest(shard, term, int(time.time() * 1000), found)
        listed = place / MANIFEST
        listed.write_text(manifest.encode())
        tar.add(listed, arcname=MANIFEST)
    return manifest, packed


def _position_of(path: Path) -> int:
    conn = connect(path, Role.READER)
    try:
        return positions.read(conn)[0]
    finally:
        conn.close()


async def restore(jet: JetStream, manifest: Manifest, file_of: Callable[[int], ShardFile | None],
                  held: dict[int, int], work_dir: Path, run: RunInThread) -> list[ShardFile]:
    """Copy the snapshot's files over this node's files that hold less of the stream (`held`:
    each file's position, by site); returns the files it replaced."""
    if all(held.get(int(site), 0) >= at for site, at in manifest.files.items()):
        return []
    place = Path(tempfile.mkdtemp(prefix=f"restore-{manifest.shard}-", dir=work_dir))
    try:
        packed = place / "snapshot.tar"
        with open(packed, "wb") as target:
            await jet.snapshots.get(name_of(manifest.shard), writeinto=target)
        return await run(_unpack_into, packed, manifest, file_of, held, place)
    finally:
        shutil.rmtree(place, ignore_errors=True)


def _unpack_into(packed: Path, manifest: Manifest, file_of: Callable[[int], ShardFile | None],
                 held: dict[int, int], place: Path) -> list[ShardFile]:
    replaced = []
    with tarfile.open(packed) as tar:
        tar.extractall(place, filter="data")
    for site, at in manifest.files.items():
        file = file_of(int(site))
        if file is None or held.get(int(site), 0) >= at:
            continue
        copy_into(place / f"site-{site}.sqlite", file)
        replaced.append(file)
    return replaced


def copy_into(copy: Path, file: ShardFile) -> None:
    """Make `file` hold what `copy` holds, through SQLite (the backup API into the live file),
    so that every connection to it sees the new content and no WAL is left behind."""
    src = connect(copy, Role.READER)
    dst = connect(file.path, Role.WRITER)
    try:
        with dst.backup("main", src, "main") as step:
            step.step(-1)
    finally:
        dst.close()
        src.close()
    file.create_or_upgrade()
