"""Folding the stream into this node's files of a shard it owns.

One task per owned shard number: it reads where each of the shard's files
stands (`positions.py`), has a durable pull consumer deliver the shard's
subject from the oldest of those, and folds each delivered batch into every
file it touches, one transaction per file that stores the rows (the single
node's `apply`), runs the batch's write jobs in stream order, and moves the
file's position and lease term in the same transaction. Only after those
commits does it acknowledge the batch to the consumer, so the consumer's
pending count is the shard's lag. A message a file already holds (its
position is at or past it) is skipped, so a replay after a crash or a
takeover stores nothing twice.

Every fold first checks that this node's lease is still good by its own
clock, which runs out well before the lease can expire in the bucket: a
node that cannot renew (cut off, paused) stops writing before another can
take the shard. The position row refuses a fold under an older term.

Reads wait here for the shard to have folded what the stream held when the
read began (`caught_up`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import apsw
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tracker.cluster import auth, codec, messages, positions
from tracker.cluster.jetstream import STREAM, JetStream, subject
from tracker.cluster.outcomes import REPLAYED, Outcomes
from tracker.storage import fold
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile
from tracker.storage.store import Unavailable
from tracker.throttle import Throttled

log = logging.getLogger("tracker.cluster")
failures = Throttled(log)

FETCH_MESSAGES = 256
FETCH_WAIT_SECONDS = 0.5
# A file with no rows in the latest batches is moved up to the consumed position this often.
ADVANCE_SECONDS = 2.0
# A read waits at most this long for a shard to catch up before it is refused.
CATCH_UP_SECONDS = 20.0
# After a failed fetch, a new consumer is made after this pause.
RETRY_SECONDS = 0.5


class LeaseExpired(Exception):
    """This node can no longer be sure it holds the shard's lease: it must not write it."""


class Behind(Unavailable):
    """The shard did not fold what a read needs in time."""

    def __init__(self, shard: int, reason: str):
        super().__init__(f"shard {shard}: {reason}")
        self.shard = shard


@dataclass
class Rows:
    movements: list[MovementRow] = field(default_factory=list)
    contexts: list[str | None] = field(default_factory=list)


@dataclass
class RunJob:
    ticket: str
    work: Callable[[apsw.Connection], Any]


Op = Rows | RunJob


@dataclass
class FoldResult:
    outcomes: list[tuple[str, Any]]
    folded: fold.Folded


class ShardFolder:
    """Folds shard number `shard` under lease term `term` while `lease_ok()` holds."""

    def __init__(self, shard: int, term: int, jet: JetStream,
                 files: Callable[[int], Awaitable[ShardFile | None]],
                 live_files: Callable[[], list[ShardFile]],
                 submit: Callable[[ShardFile, Callable[[apsw.Connection], Any]], asyncio.Future],
                 read_positions: Callable[[list[ShardFile]], Awaitable[dict[int, int]]],
                 apply: fold.Apply, secret: str, lease_ok: Callable[[], bool], outcomes: Outcomes,
                 on_fold: Callable[[fold.Folded], None]):
        self.shard = shard
        self.term = term
        self._jet = jet
        self._file_of_site = files
        self._live_files = live_files
        self._submit = submit
        self._read_positions = read_positions
        self._apply = apply
        self._secret = secret
        self._lease_ok = lease_ok
        self._outcomes = outcomes
        self._on_fold = on_fold
        self.positions: dict[int, int] = {}  # by file key
        self.consumed = 0  # every message of the shard up to here is folded
        self._checked = 0  # the stream was seen to hold nothing more for the shard up to here
        self._delivered = 0  # the consumer sequence of the last message taken from the consumer
        self._progress = asyncio.Event()
        self._advanced_at = time.monotonic()
        self.ready = asyncio.Event()

    async def start_position(self) -> int:
        """Where the shard's files stand: the oldest position of its live files."""
        self.positions = await self._read_positions(self._live_files())
        self.consumed = min(self.positions.values(), default=0)
        return self.consumed

    async def run(self) -> None:
        """Fold until cancelled or the lease can no longer be trusted."""
        await self.start_position()
        consumer = await self._subscribe(self.consumed + 1)
        self.ready.set()
        try:
            while self._lease_ok():
                try:
                    batch = await consumer.fetch(FETCH_MESSAGES, timeout=FETCH_WAIT_SECONDS)
                except TimeoutError:
                    batch = []
                except (nats.errors.Error, nats.js.errors.Error) as error:
                    failures.warning("shard %d: fetching failed, starting over: %r", self.shard, error)
                    batch = None
                if batch is not None and batch and not await self._follows_on(batch):
                    failures.warning("shard %d: the consumer skipped or repeated a message after "
                                     "%d; starting over from there", self.shard, self.consumed)
                    batch = None
                if batch is None:  # a fresh consumer from the first message not folded
                    await _quietly(consumer.unsubscribe())
                    await asyncio.sleep(RETRY_SECONDS)
                    consumer = await self._subscribe(self.consumed + 1)
                    continue
                if batch:
                    await self._fold(batch)
                    self._delivered = batch[-1].metadata.sequence.consumer
                    await _quietly(batch[-1].ack())  # a lost ack is redelivered, and caught above
                await self._advance_quiet_files()
        finally:
            self._wake()
            await _quietly(consumer.unsubscribe())

    async def _follows_on(self, batch: list[Msg]) -> bool:
        """Whether the batch holds every message of the shard after what is folded, in stream
        order. A delivery can be lost on its way: when the client's NATS server dies, what the
        consumer sent through it is gone while the rest of the same pull arrives through the
        next server, and acknowledging past the gap (AckPolicy.ALL) would drop it for good. The
        consumer numbers its deliveries one by one, so a lost one leaves a gap there; a
        redelivery or a consumer that started past a message shows in the stream sequences."""
        deliveries = [msg.metadata.sequence.consumer for msg in batch]
        if deliveries != list(range(self._delivered + 1, self._delivered + 1 + len(batch))):
            return False
        seqs = [msg.metadata.sequence.stream for msg in batch]
        if any(b <= a for a, b in zip(seqs, seqs[1:])):
            return False
        return seqs[0] == await self._next_after(self.consumed)

    async def _subscribe(self, start: int):  # -> JetStreamContext.PullSubscription
        durable = f"fold-{self.shard}"
        self._delivered = 0  # a new consumer numbers its deliveries from 1
        try:
            await self._jet.js.delete_consumer(STREAM, durable)
        except nats.js.errors.NotFoundError:
            pass
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
                                ack_policy=AckPolicy.ALL, filter_subject=subject(self.shard),
                                max_ack_pending=-1)
        return await self._jet.js.pull_subscribe(subject(self.shard), durable=durable, stream=STREAM,
                                                 config=config)

    async def _fold(self, batch: list[Msg]) -> None:
        started = time.perf_counter()
        plans: dict[ShardFile, list[Op]] = {}
        replayed: list[str] = []
        for msg in batch:
            seq = msg.metadata.sequence.stream
            await self._plan(seq, messages.decode(msg.data), plans, replayed)
        last = batch[-1].metadata.sequence.stream
        futures = [self._submit(file, _fold_job(ops, last, self.term, self._apply, self._lease_ok))
                   for file, ops in plans.items()]
        results: list[FoldResult] = await asyncio.gather(*futures)
        for file, result in zip(plans, results):
            self.positions[file.key] = last
            for ticket, outcome in result.outcomes:
                self._outcomes.record(ticket, outcome)
            self._on_fold(fold.Folded(file.key, result.folded.rows, result.folded.movements,
                                      result.folded.sessions_created, last,
                                      time.perf_counter() - started))
        for ticket in replayed:
            self._outcomes.record(ticket, REPLAYED)
        self.consumed = last
        self._wake()

    async def _plan(self, seq: int, message: messages.Message, plans: dict[ShardFile, list[Op]],
                    replayed: list[str]) -> None:
        """Add one message's rows and jobs to the plans of the files that do not hold it yet."""
        if isinstance(message, messages.Job):
            file = await self._file_of_site(message.site)
            if not auth.job_is_signed(self._secret, message.work, message.mac):
                failures.warning("shard %d: an unsigned job at %d was skipped", self.shard, seq)
                return
            if file is None or seq <= self.positions.get(file.key, 0):
                replayed.append(message.ticket)
                return
            plans.setdefault(file, []).append(RunJob(message.ticket, codec.loads(message.work)))
            return
        for site, row in messages.movements(message):
            file = await self._file_of_site(site)
            if file is None or seq <= self.positions.get(file.key, 0):
                continue
            ops = plans.setdefault(file, [])
            if not ops or not isinstance(ops[-1], Rows):
                ops.append(Rows())
            rows = ops[-1]
            assert isinstance(rows, Rows)
            rows.movements.append(row)
            rows.contexts.append(message.context)

    async def _advance_quiet_files(self) -> None:
        """Move files that had nothing in the latest batches up to the consumed position, so that
        a restart does not read the stream again from their older one."""
        if time.monotonic() - self._advanced_at < ADVANCE_SECONDS:
            return
        self._advanced_at = time.monotonic()
        behind = [file for file in self._live_files()
                  if self.positions.get(file.key, 0) < self.consumed]
        upto = self.consumed
        futures = [self._submit(file, _fold_job([], upto, self.term, self._apply, self._lease_ok))
                   for file in behind]
        await asyncio.gather(*futures)
        for file in behind:
            self.positions[file.key] = max(self.positions.get(file.key, 0), upto)

    def _wake(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    async def caught_up(self, target: int) -> None:
        """Return once every message of the shard up to stream position `target` is folded."""
        deadline = time.monotonic() + CATCH_UP_SECONDS
        try:  # a shard just taken over restores its snapshot first
            await asyncio.wait_for(self.ready.wait(), CATCH_UP_SECONDS)
        except TimeoutError:
            raise Behind(self.shard, "not folding yet (restoring or starting); retry") from None
        while max(self.consumed, self._checked) < target:
            at = self.consumed
            try:
                following = await self._next_after(at)
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
                raise Behind(self.shard, f"the stream did not answer ({error!r})") from None
            if following is None or following > target:
                self._checked = max(self._checked, target)
                return
            left = deadline - time.monotonic()
            if left <= 0 or not self._lease_ok():
                raise Behind(self.shard, f"folded up to {self.consumed}, a read needs {target}")
            progress = self._progress
            if self.consumed == at:
                try:
                    await asyncio.wait_for(progress.wait(), min(left, 1.0))
                except TimeoutError:
                    pass

    async def _next_after(self, at: int) -> int | None:
        """The stream position of the shard's first message after `at`, None when there is none."""
        try:
            found = await self._jet.js.get_msg(STREAM, seq=at + 1, subject=subject(self.shard), next=True)
        except nats.js.errors.NotFoundError:
            return None
        return found.seq


def _fold_job(ops: list[Op], upto: int, term: int, apply: fold.Apply,
              lease_ok: Callable[[], bool]) -> Callable[[apsw.Connection], FoldResult]:
    def run(conn: apsw.Connection) -> FoldResult:
        if not lease_ok():
            raise LeaseExpired(f"lease term {term}")
        started = time.perf_counter()
        outcomes: list[tuple[str, Any]] = []
        rows = movements = created = 0
        for op in ops:
            if isinstance(op, Rows):
                applied = apply(conn, op.movements, op.contexts)
                rows += len(op.movements)
                movements += applied.movements
                created += applied.sessions_created
            else:
                outcomes.append((op.ticket, _run_job(conn, op.work)))
        if not lease_ok():  # the node was paused while it folded: roll the fold back
            raise LeaseExpired(f"lease term {term}")
        positions.move(conn, upto, term)
        return FoldResult(outcomes, fold.Folded(0, rows, movements, created, upto,
                                                time.perf_counter() - started))

    return run


def _run_job(conn: apsw.Connection, work: Callable[[apsw.Connection], Any]) -> Any:
    """A job in a savepoint of its own: one that raises leaves the fold's other work in place,
    and its exception is its outcome."""
    conn.execute("SAVEPOINT cluster_job")
    try:
        outcome = work(conn)
    except Exception as error:
        conn.execute("ROLLBACK TO cluster_job")
        outcome = error
    conn.execute("RELEASE cluster_job")
    return outcome


async def _quietly(call: Awaitable[Any]) -> None:
    """Await a call whose failure changes nothing (the connection may be gone)."""
    try:
        await call
    except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
        pass
