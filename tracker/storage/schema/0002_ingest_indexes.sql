-- Every random-keyed index costs a page write per inserted row, so movements
-- keep only the two the queries need: a user's movements in time order (which
-- also serves the userId lookups of the old single-column index) and eventId
-- de-duplication. Duplicates stored before uniqueness was enforced are removed,
-- keeping the first copy.

DROP INDEX idx_movements_userId;
DROP INDEX idx_movements_sessionId;
DROP INDEX idx_movements_timestamp;
CREATE INDEX idx_movements_user_time ON movements(userId, timestamp);
DELETE FROM movements WHERE eventId IS NOT NULL AND id NOT IN (
  SELECT min(id) FROM movements WHERE eventId IS NOT NULL GROUP BY userId, eventId
);
CREATE UNIQUE INDEX idx_movements_event_id ON movements(userId, eventId)
  WHERE eventId IS NOT NULL;
CREATE INDEX idx_sessions_last_activity ON sessions(lastActivity);
