-- Visits and their pages (see tracker/analytics/visits.py), built from the movements
-- already stored. Archived movements and what only a request knew (browser, OS,
-- device, country) or only the enrichment lists derive (referrer, UTM, source,
-- channel) are not known for these visits and stay NULL.

CREATE TABLE visits (
  id INTEGER PRIMARY KEY,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  prev INTEGER,
  movements INTEGER NOT NULL,
  pageviews INTEGER NOT NULL,
  entryTime INTEGER, entryPage TEXT,
  exitTime INTEGER, exitPage TEXT,
  referrer TEXT, utmSource TEXT, utmMedium TEXT, utmCampaign TEXT, utmTerm TEXT, utmContent TEXT,
  source TEXT, channel TEXT,
  browser TEXT, os TEXT, device TEXT, country TEXT, region TEXT, city TEXT
);
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

INSERT INTO visits(userId, sessionId, first, last, movements, pageviews)
SELECT userId, sessionId, min(timestamp), max(timestamp), count(*), sum(event = 'page_view')
FROM movements GROUP BY userId, sessionId ORDER BY min(timestamp);

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
