-- How far into the ingest log (tracker/storage/log.py) this shard has folded:
-- kept in the shard so that it advances in the same transaction as the fold.

CREATE TABLE fold_position (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  seq INTEGER NOT NULL
);
INSERT INTO fold_position(id, seq) VALUES (0, 0);
