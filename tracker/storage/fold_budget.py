"""The backlog's bound in seconds of folding, measured as it goes.

A read other than /analytics (which reads the unfolded tail instead,
`tail.py`) folds its shard files up to the log's head before it answers, so
it waits for the fold of whatever is unfolded then. A bound in events
(TRACKER_MAX_BACKLOG) lets that wait be seconds long under sustained load;
this bound keeps the whole unfolded backlog within TRACKER_MAX_BACKLOG_SECONDS
of folding, at the rate this process's reads were measured to fold at (the
rows a read folded over the time it waited for them: what the bound is for),
or for an app without a folding process, its folding thread's folds. A request
that finds no room waits for the folds to make some (up to half a second,
then 503): refused clients come back only after `Retry-After`, and the folder
would idle meanwhile, since the backlog it may hold is a fraction of that.
The rate is a moving average over measurements of at least MEASURED_ROWS rows
(smaller ones are mostly fixed costs), starting from a guess; the bound never
falls below FLOOR_ROWS, so a slow measurement cannot stop ingest.

The unfolded rows are counted from the log by the follower a few times a
second (`counted`); between counts this process adds what it appended since
and what it let in and is appending (`pending`).
A file whose oldest unfolded row has waited STUCK_SECONDS is not being folded
(disk full, file gone): it is left out here and left to the per-file bound,
which refuses only that file's users.
"""

from __future__ import annotations

import threading

# Rows per second assumed until a fold has been measured.
GUESS_ROWS_PER_SECOND = 10_000.0
# Folds smaller than this are not measured: their time is mostly fixed costs.
MEASURED_ROWS = 200
# Weight of the newest measured fold in the moving average.
WEIGHT = 0.2
# The bound never goes below this many rows: ten requests of 500, a
# few tenths of a second of a read's folding on an idle machine.
FLOOR_ROWS = 5_000
STUCK_SECONDS = 10.0


class FoldBudget:
    """Whether the unfolded backlog is within `seconds` of folding (any thread)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.rows_per_second = GUESS_ROWS_PER_SECOND
        self._counted = 0  # unfolded rows at the last count
        self._seen_at_count = 0  # the log's head as this process knew it then
        self.pending = 0  # rows let in and not yet appended (the event loop's thread)
        self._lock = threading.Lock()

    def measured(self, rows: int, seconds: float) -> None:
        """A fold of `rows` took `seconds`."""
        if rows < MEASURED_ROWS or seconds <= 0:
            return
        with self._lock:
            self.rows_per_second += WEIGHT * (rows / seconds - self.rows_per_second)

    def counted(self, backlog: dict[int, tuple[int, float]], seen: int) -> None:
        """The log's unfolded rows per file, (rows, seconds the oldest waited), counted when
        this process had appended up to position `seen`."""
        self._counted = sum(rows for rows, waited in backlog.values() if waited < STUCK_SECONDS)
        self._seen_at_count = seen

    def limit_rows(self) -> int:
        return max(FLOOR_ROWS, int(self.seconds * self.rows_per_second))

    def unfolded(self, seen: int) -> int:
        """The rows unfolded now, as far as this process knows: the last count and what it
        appended since (positions are consecutive rows)."""
        return self._counted + max(0, seen - self._seen_at_count) + self.pending

    def exceeded(self, seen: int, rows: int = 0) -> bool:
        """Whether `rows` more would take the backlog past the bound (one request is let in
        whatever its size when the backlog is empty)."""
        if not self.seconds:
            return False
        unfolded = self.unfolded(seen)
        return unfolded > 0 and unfolded + rows > self.limit_rows()
