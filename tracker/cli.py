"""`tracker` and its commands: serve migrate check backup restore stats archive sites keys shares goals
reports import cluster."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import apsw

from tracker.api.auth import resolve_read_token
from tracker.cluster.registry_sync import RegistryBusy
from tracker.commands import cluster as cluster_commands
from tracker.commands import goals as goal_commands
from tracker.commands import importing
from tracker.commands import reports as report_commands
from tracker.commands import sites as site_commands
from tracker.commands.common import CommandError
from tracker.config import Config, ConfigError
from tracker.enrich import geo
from tracker.enrich.sources import rederive_functions
from tracker.lifecycle import backup
from tracker.ops import free_space, shard_stats
from tracker.storage import archives, connections, log, manifest, migrations, registry, shard_file
from tracker.storage.lock import DataDirInUse
from tracker.storage.manifest import LayoutError
from tracker.storage.store import Unavailable, prepare

FLAG_SETTINGS = {
    "host": "TRACKER_HOST",
    "port": "TRACKER_PORT",
    "workers": "TRACKER_WORKERS",
    "data_dir": "TRACKER_DATA_DIR",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracker", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the HTTP service")
    serve.add_argument("--host", help="listen address (TRACKER_HOST, default 127.0.0.1)")
    serve.add_argument("--port", help="listen port (TRACKER_PORT, default 8000)")
    serve.add_argument("--workers", help="worker processes (TRACKER_WORKERS, default 1)")
    for name, help_text in (
        ("migrate", "create or upgrade every shard file to the latest schema"),
        ("check", "run SQLite's integrity check on every shard file"),
        ("stats", "print movements, sessions, file sizes and schema version of every shard"),
    ):
        commands.add_parser(name, help=help_text)
    backup_command = commands.add_parser(
        "backup", help="copy every shard, consistently, while the service runs")
    backup_command.add_argument("dest", type=Path, help="a new or empty directory")
    restore_command = commands.add_parser(
        "restore", help="verify a backup, then restore it into a stopped or new data directory")
    restore_command.add_argument("src", type=Path, help="a directory made by `tracker backup`")
    archive_command = commands.add_parser("archive", help="the archive files retention made")
    archive_command.add_argument("action", choices=["list"],
                                 help="list: every archive file, its time range and movements")
    site_commands.add_parsers(commands)
    importing.add_parser(commands)
    goal_commands.add_parsers(commands)
    report_commands.add_parsers(commands)
    cluster_commands.add_parsers(commands)
    for sub in commands.choices.values():
        sub.add_argument("--data-dir", help="data directory (TRACKER_DATA_DIR, default ./shards)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    for attribute, env in FLAG_SETTINGS.items():
        value = getattr(args, attribute, None)
        if value is not None:
            os.environ[env] = str(value)
    try:
        config = Config.from_env()
        sys.exit(COMMANDS[args.command](config, args))
    except (ConfigError, LayoutError, StartupError, backup.BackupError, DataDirInUse,
            CommandError, importing.CannotImport, Unavailable, RegistryBusy) as error:
        print(f"tracker: {error}", file=sys.stderr)
        sys.exit(2)


class StartupError(Exception):
    """The service must not start; the message says what to do."""


def serve(config: Config, args: argparse.Namespace) -> int:
    from tracker import server
    from tracker.ops import multiproc

    refuse_unreadable_geoip(config.geoip_db)
    manifest.ensure_layout(config.data_dir, config.shards)
    refuse_damaged_shards([path for _key, path in manifest.shards_on_disk(config.data_dir,
                                                                          config.shards)])
    prepare(config, rederive_functions())
    _token, token_source = resolve_read_token(config)
    # Several processes (the workers and the folding process) share the metrics.
    metrics_dir, made_here = multiproc.prepare()
    print(f"INFO:     tracker: worker metrics in {metrics_dir}", file=sys.stderr)
    try:
        server.run(config, token_source)
    finally:
        if made_here:
            multiproc.remove(metrics_dir)
    return 0


def refuse_unreadable_geoip(path: Path | None) -> None:
    if path is None:
        return
    try:
        geo.CityLookup(path).close()
    except geo.GeoDatabaseError as error:
        raise StartupError(f"TRACKER_GEOIP_DB: {error}") from None


def refuse_damaged_shards(paths: list[Path]) -> None:
    """Stop start-up on a shard that fails SQLite's quick check: never repair silently."""
    for path in paths:
        if path.exists() and (problems := connections.integrity_problems(path, quick=True)):
            if free_space.is_full(path.parent):
                raise StartupError(f"the disk of {path.parent} is full, so {path.name} cannot be "
                                   f"opened ({problems[0]}); free some space and start again")
            raise StartupError(
                f"{path} fails SQLite's integrity check ({problems[0]}); run `tracker check` "
                "to list damaged shards and `tracker restore BACKUP` to restore them"
            )


def migrate(config: Config, args: argparse.Namespace) -> int:
    manifest.ensure_layout(config.data_dir, config.shards)
    sites = registry.RegistryFile(registry.path_in(config.data_dir))
    sites.create(int(time.time() * 1000))
    for site in sites.sites().all:
        manifest.site_dir(config.data_dir, site.number).mkdir(parents=True, exist_ok=True)
        for path in manifest.shard_paths(config.data_dir, config.shards, site.number):
            done = shard_file.create_or_upgrade(path, rederive_functions())
            names = ", ".join(f"{m.version} {m.name}" for m in done) or "up to date"
            print(f"{path.relative_to(config.data_dir)}: {names}")
    sites.close()
    print(f"schema version {migrations.LATEST_VERSION}")
    return 0


def check(config: Config, args: argparse.Namespace) -> int:
    """Name every damaged file, and every file a full disk kept from being checked. Exit 1 when
    one is damaged, else 3 when one could not be checked, else 0 (every shard, its archive
    files, the log and the site registry are intact)."""
    verdicts = [_check_file(path, config.data_dir, with_archives=True)
                for _key, path in _existing_shards(config.data_dir, config.shards)]
    for path in (log.path_in(config.data_dir), registry.path_in(config.data_dir)):
        if path.exists():
            verdicts.append(_check_file(path, config.data_dir, with_archives=False))
    return 1 if DAMAGED in verdicts else 3 if NO_SPACE in verdicts else 0


OK, DAMAGED, NO_SPACE = "ok", "DAMAGED", "NO SPACE"


def _check_file(path: Path, data_dir: Path, with_archives: bool) -> str:
    """Check one file and print its verdict. SQLite reports a disk too full to open a file
    with (a shared-memory index to create, a journal to replay) as an I/O error, which is
    not damage: restoring a backup then would lose what the file holds since."""
    try:
        problems = connections.integrity_problems(path)
        if not problems and with_archives:
            problems = connections.read_once(path, archives.problems)
    except apsw.Error as error:
        problems = [str(error)]
    if problems and free_space.is_full(data_dir):
        print(f"{path}: NO SPACE: cannot be checked while the disk is full ({problems[0]}); "
              "free some space and run `tracker check` again")
        return NO_SPACE
    if problems:
        print(f"{path}: DAMAGED: {'; '.join(problems[:5])}")
        return DAMAGED
    print(f"{path}: ok")
    return OK


def list_archives(config: Config, args: argparse.Namespace) -> int:
    files = movements = size = 0
    for _key, path in _existing_shards(config.data_dir, config.shards):
        place = path.parent.relative_to(config.data_dir)
        for relative, first, last, count, length, _sha in connections.read_once(path, archives.listing):
            print(f"{place / relative}  {_utc(first)} .. {_utc(last)}  {count:,} movements  {length:,} bytes")
            files, movements, size = files + 1, movements + count, size + length
    print(f"{files} files, {movements:,} movements, {size:,} bytes")
    return 0


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def show_stats(config: Config, args: argparse.Namespace) -> int:
    """Print a table of every shard and the totals; exit 1 when a shard cannot be read."""
    rows, bad = [], 0
    shards = _existing_shards(config.data_dir, config.shards)
    for _key, path in shards:
        try:
            rows.append(shard_stats.shard_stats(path, str(path.relative_to(config.data_dir))))
        except apsw.Error as error:
            bad += 1
            print(f"{path}: cannot be read: {error}", file=sys.stderr)
    print("\n".join(shard_stats.table(rows)))
    if rows and not bad:
        print(shard_stats.backlog_line(config.data_dir, shards))
    return 1 if bad else 0


def _existing_shards(data_dir: Path, shard_count: int) -> list[tuple[int, Path]]:
    """(the log's key, path) of every site's shard files, of the shard count the manifest
    records."""
    saved = manifest.read_manifest(data_dir)
    if saved is None:
        raise LayoutError(f"{data_dir} has no {manifest.MANIFEST_NAME}: not a tracker data directory")
    return manifest.shards_on_disk(data_dir, int(saved.get("shards", shard_count)))


def backup_shards(config: Config, args: argparse.Namespace) -> int:
    made = backup.create(config.data_dir, args.dest)
    size = sum(f["bytes"] for f in made["files"].values())
    print(f"backed up {made['shards']} shards ({size} bytes) into {args.dest}")
    return 0


def restore_shards(config: Config, args: argparse.Namespace) -> int:
    restored = backup.restore(args.src, config.data_dir)
    print(f"restored {restored['shards']} shards from {args.src} into {config.data_dir}")
    return 0


COMMANDS = {
    "serve": serve,
    "cluster": cluster_commands.run,
    "migrate": migrate,
    "check": check,
    "backup": backup_shards,
    "restore": restore_shards,
    "stats": show_stats,
    "archive": list_archives,
    "sites": site_commands.run_sites,
    "keys": site_commands.run_keys,
    "shares": site_commands.run_shares,
    "import": importing.run_import,
    "goals": goal_commands.run_goals,
    "reports": report_commands.run_reports,
}
