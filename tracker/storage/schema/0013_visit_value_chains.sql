-- Per visit and per dimension that breakdowns are asked for most (source, channel, country,
-- device): the first movement time of the same user's previous visit with the same value of
-- that dimension, in (first, id) order (see tracker/analytics/visit_chains.py). A value's
-- visitors in a window are then its visits starting in the window whose previous one with
-- that value began before it (or never): a sum over one covering index in the value's
-- order, with no sort and no set of user ids per value.
ALTER TABLE visits ADD COLUMN prevSource INTEGER;
ALTER TABLE visits ADD COLUMN prevChannel INTEGER;
ALTER TABLE visits ADD COLUMN prevCountry INTEGER;
ALTER TABLE visits ADD COLUMN prevDevice INTEGER;

UPDATE visits SET prevSource = chained.prevSource, prevChannel = chained.prevChannel,
                  prevCountry = chained.prevCountry, prevDevice = chained.prevDevice
FROM (SELECT id,
             lag(first) OVER (PARTITION BY userId, source ORDER BY first, id) AS prevSource,
             lag(first) OVER (PARTITION BY userId, channel ORDER BY first, id) AS prevChannel,
             lag(first) OVER (PARTITION BY userId, country ORDER BY first, id) AS prevCountry,
             lag(first) OVER (PARTITION BY userId, device ORDER BY first, id) AS prevDevice
      FROM visits) AS chained
WHERE chained.id = visits.id;

CREATE INDEX idx_visits_source ON visits(source, first, prevSource, movements, last, pageviews);
CREATE INDEX idx_visits_channel ON visits(channel, first, prevChannel, movements, last, pageviews);
CREATE INDEX idx_visits_country ON visits(country, first, prevCountry, movements, last, pageviews);
CREATE INDEX idx_visits_device ON visits(device, first, prevDevice, movements, last, pageviews);
