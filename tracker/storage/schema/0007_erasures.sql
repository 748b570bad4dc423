-- Each user's latest erasure (tracker/lifecycle/erasures.py), in the user's shard: every
-- erasure job adds what it removed in its own transaction, so the counts stay exact across a
-- crash, and an erasure still running at start-up is resumed.

CREATE TABLE erasures (
  userId TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'done')),
  requestedAt INTEGER NOT NULL,
  finishedAt INTEGER,
  movements INTEGER NOT NULL,
  sessions INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_erasures_status ON erasures(status);
