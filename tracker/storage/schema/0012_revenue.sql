-- Revenue a movement brings: the amount as exact decimal text in its currency's minor
-- units ("19.90"), and the ISO 4217 code; NULL for the movements without, which are
-- all of those stored before. The index holds only the movements with revenue, so it
-- costs the others nothing: a goal's revenue is one range of it per window.

ALTER TABLE movements ADD COLUMN revenue TEXT;
ALTER TABLE movements ADD COLUMN currency TEXT;
CREATE INDEX idx_movements_revenue ON movements(event, timestamp) WHERE currency IS NOT NULL;
