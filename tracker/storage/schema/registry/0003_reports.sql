-- Email reports (tracker/storage/subscriptions.py): who gets a site's weekly or monthly
-- report, and each report's send. A send's row is its claim: the primary key lets one
-- worker of one process have it, and its status says how far it got, so that a report
-- is never sent twice across workers and restarts.

CREATE TABLE report_subscriptions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site INTEGER NOT NULL REFERENCES sites(number),
  email TEXT NOT NULL,
  every TEXT NOT NULL CHECK (every IN ('week', 'month')),
  created INTEGER NOT NULL
);
CREATE UNIQUE INDEX idx_report_subscriptions ON report_subscriptions(site, email, every);

-- status: sending (claimed; the message is not yet handed over), data (the mail server is
-- being given the message: whether it took it is unknown after a crash, so it is never sent
-- again), sent, failed (the server refused it, or could not be reached: tried again at
-- `lease` while attempts remain), unknown (the connection broke while the server had the
-- message). `lease`: until when a claim holds, or when a failed send is tried again.
-- `unsubscribe`: the SHA-256 of the unsubscribe token in the message (the token itself is
-- only in the mail).
CREATE TABLE report_sends (
  subscription INTEGER NOT NULL,
  period INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'data', 'sent', 'failed', 'unknown')),
  attempts INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  error TEXT,
  unsubscribe TEXT,
  PRIMARY KEY (subscription, period)
) WITHOUT ROWID;
CREATE UNIQUE INDEX idx_report_sends_unsubscribe ON report_sends(unsubscribe);
