-- Membership is consent, PostgreSQL dialect; migrations/sqlite/0004_membership_consent.sql
-- is the same in SQLite's dialect. Never edit an applied migration: add the next one.
--
-- A client owner's invitation of someone who already has an account records
-- nothing against them: it is a single-use token to join the client, and the
-- membership is made only when they accept it.
ALTER TABLE tokens ADD COLUMN client_id UUID REFERENCES clients (id);
ALTER TABLE tokens DROP CONSTRAINT tokens_purpose_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_purpose_check
    CHECK (purpose IN ('set_password', 'accept_engagement', 'accept_connection', 'join_client'));
ALTER TABLE tokens ADD CONSTRAINT tokens_join_client_check CHECK ((purpose = 'join_client') = (client_id IS NOT NULL));
