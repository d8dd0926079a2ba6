-- Sign-in attempts counted before the password is checked, PostgreSQL
-- dialect (migrations/sqlite/0004_login_attempts.sql is the same in SQLite's).
-- Never edit an applied migration: add the next one.
--
-- Counting failures in one transaction and recording one in another, after
-- the slow Argon2 check, let N parallel guesses all pass a count that none of
-- them had yet raised (issue 19). Now an attempt is counted and recorded at
-- once, under a lock on each of its keys (ferry_store_sql's
-- `reserve_login_attempt`), and counts as a failure until its password is
-- found right; then its rows are taken back, by the id of the attempt that
-- wrote them. Rows written before this migration have none.
ALTER TABLE login_failures ADD COLUMN attempt_id UUID;
CREATE INDEX login_failures_by_attempt ON login_failures (attempt_id);
