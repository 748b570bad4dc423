-- The contract's original schema, as the first release stored it.

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  userId TEXT NOT NULL,
  sessionId TEXT UNIQUE NOT NULL,
  startTime INTEGER NOT NULL,
  lastActivity INTEGER NOT NULL,
  deviceInfo TEXT DEFAULT '{}'
);
CREATE TABLE movements (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  event TEXT NOT NULL,
  data TEXT DEFAULT '{}',
  eventId TEXT
);
CREATE INDEX idx_movements_userId ON movements(userId);
CREATE INDEX idx_movements_sessionId ON movements(sessionId);
CREATE INDEX idx_movements_timestamp ON movements(timestamp);
