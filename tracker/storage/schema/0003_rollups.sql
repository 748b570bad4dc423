-- Rollup tables (see tracker/analytics/rollups.py), filled from the movements already
-- stored, and a time index for the raw minutes at the ends of a window.
-- Grains: minute, quarter hour, hour, day. Gaps: stretches of over an hour.
-- Entity kinds: 0 = a user, 1 = a (user, session); event '' = every event.

CREATE INDEX idx_movements_time ON movements(timestamp);
CREATE TABLE rollup_events (
  grain INTEGER NOT NULL, start INTEGER NOT NULL, event TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (grain, start, event)
) WITHOUT ROWID;
CREATE TABLE rollup_pages (
  grain INTEGER NOT NULL, start INTEGER NOT NULL, path TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (grain, start, path)
) WITHOUT ROWID;
-- Entity rows are keyed user first: the four entities one movement touches
-- (the user and its session, overall and for the event) share a leaf page.
CREATE TABLE activity_spans (
  kind INTEGER NOT NULL, event TEXT NOT NULL, userId TEXT NOT NULL, sessionId TEXT NOT NULL,
  first INTEGER NOT NULL, last INTEGER NOT NULL,
  PRIMARY KEY (userId, sessionId, kind, event)
) WITHOUT ROWID;
CREATE INDEX idx_spans_first ON activity_spans(kind, event, first);
CREATE INDEX idx_spans_last ON activity_spans(kind, event, last);
CREATE TABLE activity_gaps (
  kind INTEGER NOT NULL, event TEXT NOT NULL, userId TEXT NOT NULL, sessionId TEXT NOT NULL,
  prev INTEGER NOT NULL, next INTEGER NOT NULL,
  PRIMARY KEY (userId, sessionId, kind, event, prev)
) WITHOUT ROWID;
CREATE INDEX idx_gaps_next ON activity_gaps(kind, event, next, prev);
CREATE INDEX idx_gaps_prev ON activity_gaps(kind, event, prev, next);
CREATE TABLE activity_counts (
  kind INTEGER NOT NULL, event TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (kind, event)
) WITHOUT ROWID;

WITH grains(grain) AS (VALUES (60000), (900000), (3600000), (86400000))
INSERT INTO rollup_events(grain, start, event, n)
SELECT grain, timestamp - timestamp % grain AS slot, event, count(*)
FROM movements, grains GROUP BY grain, slot, event;

WITH grains(grain) AS (VALUES (60000), (900000), (3600000), (86400000))
INSERT INTO rollup_pages(grain, start, path, n)
SELECT grain, timestamp - timestamp % grain AS slot, data ->> '$.path' AS path, count(*)
FROM movements, grains
WHERE event = 'page_view' AND json_type(data, '$.path') = 'text'
GROUP BY grain, slot, path;

INSERT INTO activity_spans SELECT 0, '', userId, '', min(timestamp), max(timestamp) FROM movements GROUP BY userId, '', '';

INSERT INTO activity_gaps SELECT * FROM (SELECT 0, '', userId, '', lag(timestamp) OVER (PARTITION BY userId, '', '' ORDER BY timestamp) AS prev, timestamp FROM movements) WHERE timestamp - prev > 3600000;

INSERT INTO activity_spans SELECT 0, event, userId, '', min(timestamp), max(timestamp) FROM movements GROUP BY userId, event, '';

INSERT INTO activity_gaps SELECT * FROM (SELECT 0, event, userId, '', lag(timestamp) OVER (PARTITION BY userId, event, '' ORDER BY timestamp) AS prev, timestamp FROM movements) WHERE timestamp - prev > 3600000;

INSERT INTO activity_spans SELECT 1, '', userId, sessionId, min(timestamp), max(timestamp) FROM movements GROUP BY userId, '', sessionId;

INSERT INTO activity_gaps SELECT * FROM (SELECT 1, '', userId, sessionId, lag(timestamp) OVER (PARTITION BY userId, '', sessionId ORDER BY timestamp) AS prev, timestamp FROM movements) WHERE timestamp - prev > 3600000;

INSERT INTO activity_spans SELECT 1, event, userId, sessionId, min(timestamp), max(timestamp) FROM movements GROUP BY userId, event, sessionId;

INSERT INTO activity_gaps SELECT * FROM (SELECT 1, event, userId, sessionId, lag(timestamp) OVER (PARTITION BY userId, event, sessionId ORDER BY timestamp) AS prev, timestamp FROM movements) WHERE timestamp - prev > 3600000;

INSERT INTO activity_counts SELECT kind, event, count(*) FROM activity_spans GROUP BY kind, event;
