"""`tracker import --site ID --format F FILE...`: past data from tracker's export, GoatCounter or Umami.

It works on the data directory whether the service runs on it or not: the
rows go through the log like live ingest (lifecycle/importing.py). With the
service running, the service's folding process folds them; without it, this
command starts the same folding process for the time it runs, and folds the
rest before it ends. On a terminal it shows a progress bar on stderr (the
share of the files' bytes read, with the rows' counts and rate); rejected
rows are listed on stderr as `FILE:LINE: why` as they are met, and the summary
goes to stdout. Exit status: 0 when every row was stored or a duplicate, 1
when rows were rejected, 2 when the import could not be done.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest import import_goatcounter, import_ndjson, import_umami
from tracker.ingest.apply import applier
from tracker.ingest.import_rows import Read, Unreadable, open_text
from tracker.lifecycle.importing import Importer, Tally
from tracker.server import FoldingProcess
from tracker.storage.lock import hold_shared_noting_others, release
from tracker.storage.store import Layout, Store, prepare

READERS: dict[str, Callable[[TextIO, str], Read]] = {
    "ndjson": import_ndjson.read,
    "goatcounter": import_goatcounter.read,
    "umami": import_umami.read,
}
PROGRESS_SECONDS = 0.5


class CannotImport(Exception):
    """The import cannot be done; the message says why."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "import", help="load past data into a site: tracker's own export, GoatCounter or Umami")
    command.add_argument("--site", required=True, help="the site the data goes into")
    command.add_argument("--format", required=True, choices=sorted(READERS),
                         help="ndjson: tracker's export; goatcounter: GoatCounter's CSV export "
                              "(version 2); umami: Umami's website_event table as CSV")
    command.add_argument("files", nargs="+", type=Path, metavar="FILE",
                         help="files to import, in order (GoatCounter's may be gzipped)")


def run_import(config: Config, args: argparse.Namespace) -> int:
    layout = prepare(config, rederive_functions())
    sites = layout.registry_file()
    site = sites.sites().by_id(args.site)
    sites.close()
    if site is None:
        raise CannotImport(f"no site `{args.site}`")
    lock, alone = hold_shared_noting_others(config.data_dir)
    folding = FoldingProcess(config) if alone else None  # else the service's folds
    started = time.monotonic()
    try:
        tally = asyncio.run(_import(layout, config, site.number, site.id, args.format, args.files))
    finally:
        if folding is not None:
            folding.stop()
        release(lock)
    print(summary(site.id, tally, len(args.files), time.monotonic() - started))
    return 1 if tally.rejected else 0


async def _import(layout: Layout, config: Config, number: int, site_id: str, kind: str,
                  files: list[Path]) -> Tally:
    store = Store(layout, config, applier(config.session_ttl_seconds), fold_in_background=False)
    progress = Progress(sys.stderr, [_size(path) for path in files])
    importer = Importer(store, number, progress.rejected)
    try:
        for path in files:
            with _opened(path) as text:
                progress.reading(text)
                try:
                    await importer.add_file(str(path), READERS[kind](text, site_id), progress.show)
                except (Unreadable, OSError, EOFError) as error:
                    raise CannotImport(f"{path}: {error}") from None
        tally = await importer.finish()
        progress.show(tally, final=True)
        await store.drain()  # fold what the folding process has not yet
    finally:
        store.close()
    return tally


def _opened(path: Path) -> TextIO:
    try:
        return open_text(path)
    except Unreadable as error:
        raise CannotImport(str(error)) from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # opening it says why
        return 0


def _bytes_read(text: TextIO) -> int:
    """How far into its file `text` has read, in the file's bytes (a gzipped file's
    compressed ones); 0 when that cannot be told."""
    buffer = getattr(text, "buffer", None)
    underlying = getattr(buffer, "fileobj", buffer)  # a GzipFile reads from its fileobj
    try:
        return int(underlying.tell()) if underlying is not None else 0
    except (OSError, ValueError):
        return 0


class Progress:
    """While stderr is a terminal, a bar of the files' bytes read, with the counts and rate,
    redrawn on one line; rejected rows listed as they come, whether a terminal or not."""

    BAR = 24

    def __init__(self, stream: TextIO, sizes: list[int]):
        self._stream = stream
        self._terminal = stream.isatty()
        self._sizes = sizes
        self._file = -1
        self._text: TextIO | None = None
        self._started = time.monotonic()
        self._shown = self._started - PROGRESS_SECONDS  # the first batch shows at once

    def reading(self, text: TextIO) -> None:
        """The next file's text is being read."""
        self._file += 1
        self._text = text

    def rejected(self, name: str, line: int, why: str) -> None:
        self._clear()
        print(f"{name}:{line}: {why}", file=self._stream)

    def show(self, tally: Tally, final: bool = False) -> None:
        now = time.monotonic()
        if not self._terminal or (now - self._shown < PROGRESS_SECONDS and not final):
            return
        self._shown = now
        share = 1.0 if final else self._share()
        filled = int(share * self.BAR)
        rate = tally.read / max(now - self._started, 1e-9)
        self._stream.write(f"\r[{'#' * filled}{'.' * (self.BAR - filled)}] {share:4.0%} "
                           f"{tally.read:,} rows read, {tally.stored:,} stored, "
                           f"{tally.duplicates:,} duplicates, {tally.rejected:,} rejected "
                           f"({rate:,.0f} rows/s)" + ("\n" if final else ""))
        self._stream.flush()

    def _share(self) -> float:
        """The share of all the files' bytes read so far, short of the end."""
        total = sum(self._sizes)
        done = sum(self._sizes[:max(self._file, 0)])
        if self._text is not None and 0 <= self._file < len(self._sizes):
            done += min(_bytes_read(self._text), self._sizes[self._file])
        return min(done / total, 0.99) if total else 0.0

    def _clear(self) -> None:
        if self._terminal:
            self._stream.write("\r\x1b[K")


def summary(site: str, tally: Tally, files: int, seconds: float) -> str:
    return (f"imported into {site}: {counted(tally.read, 'row')} from {counted(files, 'file')} "
            f"in {seconds:.1f} s ({tally.read / max(seconds, 1e-9):,.0f} rows/s)\n"
            f"  stored: {tally.stored:,}\n"
            f"  skipped as duplicates: {tally.duplicates:,}\n"
            f"  rejected: {tally.rejected:,}")


def counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' * (count != 1)}"
