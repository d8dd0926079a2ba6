-- Membership is consent, SQLite dialect; migrations/postgres/0004_membership_consent.sql
-- is the same in PostgreSQL's dialect. Never edit an applied migration: add the next one.
--
-- A client owner's invitation of someone who already has an account records
-- nothing against them: it is a single-use token to join the client, and the
-- membership is made only when they accept it. SQLite cannot change a CHECK
-- constraint, so the tokens table is rebuilt with the new purpose and the
-- client it is about.
CREATE TABLE tokens_new (
    token_hash    BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    purpose       TEXT NOT NULL
                  CHECK (purpose IN ('set_password', 'accept_engagement', 'accept_connection', 'join_client')),
    engagement_id BLOB REFERENCES engagements (id),
    connection_id BLOB REFERENCES connections (id),
    client_id     BLOB REFERENCES clients (id),
    user_id       BLOB NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    CHECK ((purpose = 'accept_engagement') = (engagement_id IS NOT NULL)),
    CHECK ((purpose = 'accept_connection') = (connection_id IS NOT NULL)),
    CHECK ((purpose = 'join_client') = (client_id IS NOT NULL)),
    CHECK (expires_at > created_at)
);
INSERT INTO tokens_new (token_hash, purpose, engagement_id, connection_id, user_id, created_at, expires_at, used_at)
    SELECT token_hash, purpose, engagement_id, connection_id, user_id, created_at, expires_at, used_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_by_user ON tokens (user_id, purpose);
