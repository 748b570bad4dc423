-- Each visit's movements per event, stored or archived (see tracker/analytics/visits.py):
-- an event breakdown with filters reads the counts of the visits that pass instead of
-- every movement of the window. Built from the movements stored.
CREATE TABLE visit_events (
  visit INTEGER NOT NULL, event TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (visit, event)
) WITHOUT ROWID;

INSERT INTO visit_events(visit, event, n)
SELECT visits.id, movements.event, count(*)
FROM movements JOIN visits ON visits.userId = movements.userId AND visits.sessionId = movements.sessionId
GROUP BY visits.id, movements.event;

-- Visits that the rows above do not count in full: some of their movements were archived
-- (or erased) before this migration. Their movements are counted where they lie instead,
-- and their rows in visit_events are not read.
CREATE TABLE visit_events_partial (visit INTEGER PRIMARY KEY);

INSERT INTO visit_events_partial(visit)
SELECT id FROM visits
WHERE movements <> coalesce((SELECT sum(n) FROM visit_events WHERE visit = visits.id), 0);
