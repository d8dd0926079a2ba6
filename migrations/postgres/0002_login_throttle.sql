-- Sign-in throttling, PostgreSQL dialect: shared by every server process, so it lives
-- here. migrations/sqlite/0002_login_throttle.sql is the same in SQLite's
-- dialect. Never edit an applied migration: add the next one.
--
-- One row per failed sign-in per key it counts against: `account:<email>` or
-- `address:<ip>` (ferry_ports::records::ThrottleKey::as_key). Counting one
-- key's failures within a window is a range scan of the index; a successful
-- sign-in deletes its key's rows, and the purge deletes rows older than every
-- window.
CREATE TABLE login_failures (
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
