-- A user's sessions, for that user's export and erasure.

CREATE INDEX idx_sessions_user ON sessions(userId);
