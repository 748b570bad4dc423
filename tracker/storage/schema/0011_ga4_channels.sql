-- Every stored visit's source and channel by GA4's default channel group (the rules in
-- tracker/enrich/channels.py), from the referrer host and UTM fields the visit kept.
-- visit_source() and visit_channel() are the enrich layer's, registered by the caller
-- (tracker.enrich.sources.rederive_functions). Visits that migration 0008 built from
-- older movements kept no acquisition fields (channel NULL) and stay so. Each distinct
-- (referrer, utmSource, utmMedium, utmCampaign) is worked out once, and only visits
-- whose values change are written.
CREATE TEMP TABLE rederived AS
SELECT referrer, utmSource, utmMedium, utmCampaign,
       visit_source(referrer, utmSource, utmMedium, utmCampaign) AS source,
       visit_channel(referrer, utmSource, utmMedium, utmCampaign) AS channel
FROM (SELECT DISTINCT referrer, utmSource, utmMedium, utmCampaign FROM visits WHERE channel IS NOT NULL);

CREATE INDEX temp.rederived_key ON rederived(referrer, utmSource, utmMedium, utmCampaign);

UPDATE visits SET source = rederived.source, channel = rederived.channel
FROM rederived
WHERE visits.channel IS NOT NULL
  AND rederived.referrer IS visits.referrer AND rederived.utmSource IS visits.utmSource
  AND rederived.utmMedium IS visits.utmMedium AND rederived.utmCampaign IS visits.utmCampaign
  AND (visits.source IS NOT rederived.source OR visits.channel IS NOT rederived.channel);

DROP TABLE rederived;
