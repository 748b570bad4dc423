"""Online backups of every site's shards and archive files, and verified restores.

A backup is a directory holding the site registry, the ingest log and every
live site's shard files, each copied with SQLite's backup API (one step, so
each copy is one consistent snapshot while ingest goes on), at the same
places as in the data directory, the archive files each shard copy records,
and a `backup.json` manifest written last: its presence marks a complete
backup, and its SHA-256 sums are verified before a restore touches anything.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tracker.storage import archives, connections, log, manifest, migrations, registry
from tracker.storage.files import fsync_path, sha256_of
from tracker.storage.lock import release, take_exclusive

BACKUP_MANIFEST = "backup.json"
FORMAT = 1

# An erasure may replace an archive file between a shard's snapshot and the
# copy of its archives; the shard is then copied again.
SNAPSHOT_ATTEMPTS = 3


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why."""


def create(data_dir: Path, dest: Path) -> dict:
    """Copy every shard of `data_dir`, and its archives, into the new directory `dest`.

    Returns the manifest.
    """
    layout = manifest.read_manifest(data_dir)
    if layout is None:
        raise BackupError(f"{data_dir} has no {manifest.MANIFEST_NAME}: not a tracker data directory")
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; back up into a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    files, sites = _copy_registry(data_dir, dest)
    files.update(_copy_log(data_dir, dest))
    for site in sites:
        for source in manifest.shard_paths(data_dir, layout["shards"], site):
            files.update(_copy_shard(data_dir, source, dest))
    backup = {
        "format": FORMAT,
        "shards": layout["shards"],
        "sites": sites,
        "hash": layout["hash"],
        "schemaVersion": migrations.LATEST_VERSION,
        "createdAt": int(time.time() * 1000),
        "files": files,
    }
    _write_synced(dest / BACKUP_MANIFEST, json.dumps(backup, indent=2) + "\n")
    return backup


def _copy_registry(data_dir: Path, dest: Path) -> tuple[dict[str, dict], list[int]]:
    """Snapshot the site registry first; the sites it holds live are the ones backed up (a
    data directory from before sites: site 0 alone)."""
    source = registry.path_in(data_dir)
    if not source.exists():
        return {}, [0]
    target = registry.path_in(dest)
    _snapshot(source, target)
    sites = connections.read_once(target, registry.read_sites).live()
    return {target.name: _facts(target)}, [site.number for site in sites]


def _copy_log(data_dir: Path, dest: Path) -> dict[str, dict]:
    """Snapshot the ingest log before any shard: a shard copied later has folded at least
    as far as the log copy's oldest row, so nothing acknowledged falls between the copies."""
    source = log.path_in(data_dir)
    if not source.exists():
        return {}
    target = log.path_in(dest)
    _snapshot(source, target)
    return {target.name: _facts(target)}


def _copy_shard(data_dir: Path, source: Path, dest: Path) -> dict[str, dict]:
    """Snapshot one shard and copy the archive files the snapshot records; their manifest
    entries, by path in the data directory."""
    place = source.parent.relative_to(data_dir)  # the site's directory
    for _ in range(SNAPSHOT_ATTEMPTS):
        target = dest / place / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        _snapshot(source, target)
        try:
            archived = {str(place / relative): _copy_archive(source.parent, target.parent, relative)
                        for relative in _recorded_archives(target)}
        except FileNotFoundError:
            continue
        return {str(place / source.name): _facts(target), **archived}
    raise BackupError(f"the archive files of {source} kept changing during the backup; try again")


def _recorded_archives(shard_copy: Path) -> list[str]:
    return [row[0] for row in connections.read_once(shard_copy, archives.listing)]


def _copy_archive(data_dir: Path, dest: Path, relative: str) -> dict:
    target = dest / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data_dir / relative, target)
    fsync_path(target)
    return _facts(target)


def _facts(path: Path) -> dict:
    return {"sha256": sha256_of(path), "bytes": path.stat().st_size}


def _snapshot(source: Path, target: Path) -> None:
    connections.copy_database(source, target)
    fsync_path(target)


def verify(source: Path) -> dict:
    """The backup's manifest, once every file is present with the right size and SHA-256."""
    path = source / BACKUP_MANIFEST
    try:
        backup = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} has no {BACKUP_MANIFEST}: the backup is incomplete") from None
    except (OSError, ValueError) as error:
        raise BackupError(f"cannot read {path}: {error}") from None
    if backup.get("hash") != manifest.HASH_NAME:
        raise BackupError(f"the backup uses hash {backup.get('hash')!r}, not {manifest.HASH_NAME!r}")
    if backup.get("schemaVersion", 0) > migrations.LATEST_VERSION:
        raise BackupError("the backup was made by a newer release of tracker")
    shards = {str(p.relative_to(source)) for site in backup.get("sites", [0])
              for p in manifest.shard_paths(source, backup.get("shards", 0), site)}
    listed = set(backup.get("files", {}))
    extra = listed - shards - {log.LOG_FILE, registry.REGISTRY_FILE}
    if not shards or shards - listed or any(map(_outside_archives, extra)):
        raise BackupError("the backup's file list does not match its shard count")
    for name, facts in sorted(backup["files"].items()):
        _verify_file(source / name, facts)
    for name in sorted(shards):
        place = Path(name).parent
        missing = {str(place / relative) for relative in _recorded_archives(source / name)} - listed
        if missing:
            raise BackupError(f"{name} records archive files the backup lacks: {sorted(missing)[0]}")
    return backup


def _outside_archives(relative: str) -> bool:
    """Whether a listed file is not an archive file of a site's directory."""
    parts = Path(relative).parts
    if len(parts) >= 3 and parts[0] == manifest.SITES_DIR and parts[1].isdigit():
        parts = parts[2:]
    return len(parts) < 2 or parts[0] != archives.ARCHIVE_DIR or ".." in parts


def _verify_file(path: Path, facts: dict) -> None:
    if not path.is_file():
        raise BackupError(f"{path.name} is missing from the backup")
    if path.stat().st_size != facts["bytes"]:
        raise BackupError(f"{path.name} has {path.stat().st_size} bytes, the manifest says {facts['bytes']}")
    if sha256_of(path) != facts["sha256"]:
        raise BackupError(f"{path.name} does not match its SHA-256 in {BACKUP_MANIFEST}")


def restore(source: Path, data_dir: Path) -> dict:
    """Verify `source`, then replace the shards of a stopped (or new) data directory with it."""
    backup = verify(source)
    data_dir.mkdir(parents=True, exist_ok=True)
    current = manifest.read_manifest(data_dir)
    if current is not None and current.get("shards") != backup["shards"]:
        raise BackupError(f"{data_dir} has {current.get('shards')} shards, the backup {backup['shards']}")
    lock = take_exclusive(data_dir)
    try:
        for name in sorted(backup["files"]):
            _replace(source / name, data_dir / name)
        for kept in (log.LOG_FILE, registry.REGISTRY_FILE):
            if kept not in backup["files"]:  # made before it existed: nothing of today's is in it
                for stale in ("", "-wal", "-shm"):
                    Path(f"{data_dir / kept}{stale}").unlink(missing_ok=True)
        _drop_other_sites(data_dir, backup.get("sites", [0]))
        layout = {"format": manifest.FORMAT, "shards": backup["shards"], "hash": backup["hash"]}
        _write_synced(data_dir / manifest.MANIFEST_NAME, json.dumps(layout, indent=2) + "\n")
    finally:
        release(lock)
    return backup


def _drop_other_sites(data_dir: Path, sites: list[int]) -> None:
    """Delete the files of sites the restored registry does not hold, so that a site made
    later never finds another's."""
    for number in manifest.site_numbers_on_disk(data_dir):
        if number not in sites and number != 0:
            shutil.rmtree(manifest.site_dir(data_dir, number))


def _replace(source: Path, target: Path) -> None:
    """Copy beside the target, then rename over it, dropping the old file's WAL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.restore")
    shutil.copyfile(source, temp)
    fsync_path(temp)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(temp, target)


def _write_synced(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    fsync_path(temp)
    os.replace(temp, path)
    fsync_path(path.parent)
