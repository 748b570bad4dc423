-- Funnel steps (see tracker/analytics/funnels.py): each movement under its event and,
-- for a page view, the path it counts for, then by user, session and time, so that
-- an entity's first movement of a step at or after an instant is one index search,
-- and the covering columns spare reading the rows. The path expression is the one
-- the funnel queries use, text for text.
CREATE INDEX idx_movements_steps ON movements(
  event,
  iif(event = 'page_view', iif(json_type(data, '$.path') = 'text', data ->> '$.path', NULL), NULL),
  userId, sessionId, timestamp);
