-- The ingest log (tracker/storage/log.py): every acknowledged movement, in
-- append order, until its shard has folded it and the live feed's retention
-- has passed. The (shard, seq) index is appended to at one place per shard,
-- so it costs a few page writes per commit, not one per row as a random key
-- would.

CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  shard INTEGER NOT NULL,
  loggedAt INTEGER NOT NULL,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  event TEXT NOT NULL,
  data TEXT NOT NULL,
  eventId TEXT
);
CREATE INDEX IF NOT EXISTS idx_log_shard ON log(shard, seq);
