"""The data directory's layout: shard file names, the user-to-shard hash and the manifest.

The manifest records the shard count and the hash so that a data directory
is never opened with a layout that would send users to the wrong file. Each
site has its own shard files: site 0 (the `default` site, and every site's
data before sites existed) in the data directory itself, site n in
`sites/n/`; a user's shard within its site is the hash of its id.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tracker.storage.files import create_once

HASH_NAME = "blake2b-64"
MANIFEST_NAME = "manifest.json"
FORMAT = 1


class LayoutError(Exception):
    """The data directory does not match the configuration; the message says how."""


def shard_of(user_id: str, shard_count: int) -> int:
    """A stable shard index for a user: the same in every process and release."""
    digest = hashlib.blake2b(user_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def shard_name(index: int) -> str:
    return f"shard-{index:04d}.sqlite"


SITES_DIR = "sites"


def site_dir(data_dir: Path, site: int) -> Path:
    """Where a site's shard files (and its archive files) live."""
    return data_dir if site == 0 else data_dir / SITES_DIR / str(site)


def shard_paths(data_dir: Path, shard_count: int, site: int = 0) -> list[Path]:
    return [site_dir(data_dir, site) / shard_name(i) for i in range(shard_count)]


def shards_on_disk(data_dir: Path, shard_count: int) -> list[tuple[int, Path]]:
    """(the log's key, path) of every site's shard files (the tools' view)."""
    return [(site * shard_count + index, path) for site in site_numbers_on_disk(data_dir)
            for index, path in enumerate(shard_paths(data_dir, shard_count, site))]


def site_numbers_on_disk(data_dir: Path) -> list[int]:
    """Site 0, and every site directory under `sites/` (the tools' view, with or without the
    registry)."""
    found = [int(p.name) for p in (data_dir / SITES_DIR).glob("*") if p.name.isdigit()]
    return [0, *sorted(found)]


def read_manifest(data_dir: Path) -> dict | None:
    path = data_dir / MANIFEST_NAME
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise LayoutError(f"cannot read {path}: {error}") from None


def ensure_layout(data_dir: Path, shard_count: int) -> dict:
    """Create the data directory and manifest if new, else check them against the config."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LayoutError(f"cannot create data directory {data_dir}: {error}") from None
    manifest = read_manifest(data_dir)
    if manifest is None:
        return _create_manifest(data_dir, shard_count)
    _check_manifest(data_dir, manifest, shard_count)
    return manifest


def _create_manifest(data_dir: Path, shard_count: int) -> dict:
    strays = sorted(data_dir.glob("shard-*.sqlite"))
    if strays:
        raise LayoutError(
            f"{data_dir} holds shard files ({strays[0].name}, ...) but no {MANIFEST_NAME}; "
            "restore the manifest or use an empty directory"
        )
    manifest = {"format": FORMAT, "shards": shard_count, "hash": HASH_NAME}
    create_once(data_dir / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    return manifest


def _check_manifest(data_dir: Path, manifest: dict, shard_count: int) -> None:
    if manifest.get("hash") != HASH_NAME:
        raise LayoutError(
            f"{data_dir / MANIFEST_NAME} uses hash {manifest.get('hash')!r}; "
            f"this release uses {HASH_NAME!r}"
        )
    if manifest.get("shards") != shard_count:
        raise LayoutError(
            f"{data_dir} was created with {manifest.get('shards')} shards but "
            f"TRACKER_SHARDS is {shard_count}; the shard count cannot change"
        )
