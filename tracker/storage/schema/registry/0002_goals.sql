-- A site's goals (tracker/storage/goals.py): what it counts as a conversion, an event name
-- or a page pattern (`*` matches any run of characters). Conversions are counted when a
-- report is read, from what the shards keep, so a goal covers past data at once.

CREATE TABLE goals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site INTEGER NOT NULL REFERENCES sites(number),
  name TEXT NOT NULL,
  event TEXT,
  page TEXT,
  created INTEGER NOT NULL,
  CHECK ((event IS NULL) <> (page IS NULL))
);
CREATE UNIQUE INDEX idx_goals_name ON goals(site, name);
CREATE UNIQUE INDEX idx_goals_event ON goals(site, event) WHERE event IS NOT NULL;
CREATE UNIQUE INDEX idx_goals_page ON goals(site, page) WHERE page IS NOT NULL;
