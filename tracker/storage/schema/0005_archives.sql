-- Retention's archive files (tracker/storage/archives.py): each file's time range and
-- gzip members, and which files (and members of them) hold each user.

CREATE TABLE archives (
  id INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  movements INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  members TEXT NOT NULL
);
CREATE INDEX idx_archives_last ON archives(last);
CREATE TABLE archive_users (
  userId TEXT NOT NULL,
  archive INTEGER NOT NULL,
  members TEXT NOT NULL,
  PRIMARY KEY (userId, archive)
) WITHOUT ROWID;
CREATE INDEX idx_archive_users_archive ON archive_users(archive);
