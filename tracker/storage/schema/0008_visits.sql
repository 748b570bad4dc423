-- Visits and their pages (see tracker/analytics/visits.py), built from the movements
-- already stored. Archived movements and what only a request knew (browser, OS,
-- device, country) or only the enrichment lists derive (referrer, UTM, source,
-- channel) are not known for these visits and stay NULL.

-- Clustered by first movement: a window's visits are one range of the table.
CREATE TABLE visits (
  first INTEGER NOT NULL,
  id INTEGER NOT NULL,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  last INTEGER NOT NULL,
  prev INTEGER,
  movements INTEGER NOT NULL,
  pageviews INTEGER NOT NULL,
  entryTime INTEGER, entryPage TEXT,
  exitTime INTEGER, exitPage TEXT,
  referrer TEXT, utmSource TEXT, utmMedium TEXT, utmCampaign TEXT, utmTerm TEXT, utmContent TEXT,
  source TEXT, channel TEXT,
  browser TEXT, os TEXT, device TEXT, country TEXT, region TEXT, city TEXT,
  PRIMARY KEY (first, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX idx_visits_id ON visits(id);
CREATE UNIQUE INDEX idx_visits_key ON visits(userId, sessionId);
CREATE INDEX idx_visits_user_first ON visits(userId, first);
-- Covers the unfiltered totals and series: visits, visitors, bounces, durations.
CREATE INDEX idx_visits_first ON visits(first, prev, movements, last, pageviews);
-- Visits of an hour or more, so that those spanning an instant are found without
-- scanning every visit that started before it.
CREATE INDEX idx_visits_long ON visits(first) WHERE last - first >= 3600000;
-- The window's movements of one event (property breakdowns, funnel steps).
CREATE INDEX idx_movements_event_time ON movements(event, timestamp);
CREATE TABLE visit_pages (
  visit INTEGER NOT NULL, path TEXT NOT NULL,
  first INTEGER NOT NULL, last INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (visit, path)
) WITHOUT ROWID;

INSERT INTO visits(id, userId, sessionId, first, last, movements, pageviews)
SELECT row_number() OVER (ORDER BY min(timestamp)), userId, sessionId, min(timestamp), max(timestamp),
       count(*), sum(event = 'page_view')
FROM movements GROUP BY userId, sessionId;

UPDATE visits SET prev = ordered.prev
FROM (SELECT id, lag(first) OVER (PARTITION BY userId ORDER BY first, id) AS prev FROM visits) AS ordered
WHERE ordered.id = visits.id;

UPDATE visits SET entryTime = entry.timestamp, entryPage = entry.path
FROM (SELECT userId, sessionId, timestamp, iif(json_type(data, '$.path') = 'text', data ->> '$.path', NULL) AS path,
             row_number() OVER (PARTITION BY userId, sessionId ORDER BY timestamp, id) AS rank
      FROM movements WHERE event = 'page_view') AS entry
WHERE entry.rank = 1 AND entry.userId = visits.userId AND entry.sessionId = visits.sessionId;

UPDATE visits SET exitTime = exit.timestamp, exitPage = exit.path
FROM (SELECT userId, sessionId, timestamp, iif(json_type(data, '$.path') = 'text', data ->> '$.path', NULL) AS path,
             row_number() OVER (PARTITION BY userId, sessionId ORDER BY timestamp DESC, id DESC) AS rank
      FROM movements WHERE event = 'page_view') AS exit
WHERE exit.rank = 1 AND exit.userId = visits.userId AND exit.sessionId = visits.sessionId;

INSERT INTO visit_pages(visit, path, first, last, n)
SELECT visits.id, movements.data ->> '$.path', min(movements.timestamp), max(movements.timestamp), count(*)
FROM movements JOIN visits ON visits.userId = movements.userId AND visits.sessionId = movements.sessionId
WHERE movements.event = 'page_view' AND json_type(movements.data, '$.path') = 'text'
GROUP BY visits.id, movements.data ->> '$.path';

-- Page entities of the rollups (kinds 2 and 3, see tracker/analytics/rollups.py): the
-- spans and long gaps of each user's, and each session's, page views of one path.
CREATE TEMP TABLE page_views AS
SELECT userId, sessionId, data ->> '$.path' AS path, timestamp FROM movements
WHERE event = 'page_view' AND json_type(data, '$.path') = 'text';

INSERT INTO activity_spans SELECT 2, path, userId, '', min(timestamp), max(timestamp) FROM page_views GROUP BY userId, path;

INSERT INTO activity_gaps SELECT * FROM (SELECT 2, path, userId, '', lag(timestamp) OVER (PARTITION BY userId, path ORDER BY timestamp) AS prev, timestamp FROM page_views) WHERE timestamp - prev > 3600000;

INSERT INTO activity_spans SELECT 3, path, userId, sessionId, min(timestamp), max(timestamp) FROM page_views GROUP BY userId, sessionId, path;

INSERT INTO activity_gaps SELECT * FROM (SELECT 3, path, userId, sessionId, lag(timestamp) OVER (PARTITION BY userId, sessionId, path ORDER BY timestamp) AS prev, timestamp FROM page_views) WHERE timestamp - prev > 3600000;

INSERT INTO activity_counts SELECT kind, event, count(*) FROM activity_spans WHERE kind IN (2, 3) GROUP BY kind, event;

DROP TABLE page_views;
