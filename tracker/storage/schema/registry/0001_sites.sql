-- The site registry (tracker/storage/registry.py): the sites one service holds, and
-- the credentials that read them. A site's number is where its shard files live
-- (0, the default site, in the data directory itself; n in sites/n/) and is never
-- reused, so files a deletion left behind cannot be taken for another site's.

CREATE TABLE sites (
  number INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  umamiId TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL,
  deleting INTEGER  -- when its deletion was asked (ms); NULL while the site is live
);

-- A host belongs to one site: its page views are that site's.
CREATE TABLE site_domains (
  domain TEXT PRIMARY KEY,
  site INTEGER NOT NULL REFERENCES sites(number)
) WITHOUT ROWID;

-- Keys and share links are kept as SHA-256 hashes of the token shown once.
CREATE TABLE site_keys (
  id TEXT PRIMARY KEY,
  site INTEGER NOT NULL REFERENCES sites(number),
  hash TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL
);

CREATE TABLE shares (
  id TEXT PRIMARY KEY,
  site INTEGER NOT NULL REFERENCES sites(number),
  hash TEXT NOT NULL UNIQUE,
  password TEXT,  -- scrypt$salt$hash of the password, when the link has one
  expires INTEGER,
  created INTEGER NOT NULL
);

-- Wrong passwords sent for a share link, kept a while to rate-limit guessing.
CREATE TABLE share_failures (
  share TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX idx_share_failures ON share_failures(share, at);
