-- Ferry's schema, PostgreSQL dialect. migrations/sqlite/0001_schema.sql is the
-- same schema in SQLite's dialect: keep the two in step, table for table.
--
-- Conventions, the same on both engines:
-- * Ids are UUIDs (uuid here, UUID there), minted by the application (v7).
-- * Times are microseconds since the Unix epoch, UTC, in a BIGINT. One integer
--   representation on both engines keeps comparisons, expiry checks and keyset
--   cursors identical; SQLite has no time type that sorts correctly as text.
-- * Calendar dates (due dates, periods) are DATE (ISO text on SQLite).
-- * Enumerations are lower-case text guarded by CHECK constraints, spelled as
--   the domain's `as_str`.
-- * Sizes and allowances are bytes in a BIGINT.

-- Practices and their plans. A practice applies as pending (PRODUCT.md rule 1).
CREATE TABLE practices (
    id                   UUID PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status               TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    seat_limit           BIGINT NOT NULL CHECK (seat_limit >= 0),
    storage_allowance    BIGINT NOT NULL CHECK (storage_allowance >= 0),
    throughput_allowance BIGINT NOT NULL CHECK (throughput_allowance >= 0),
    -- White label: all optional.
    display_name         TEXT CHECK (display_name IS NULL OR length(display_name) BETWEEN 1 AND 200),
    colour               TEXT CHECK (colour IS NULL OR length(colour) = 7),
    portal_url           TEXT CHECK (portal_url IS NULL OR length(portal_url) <= 2048),
    created_at           BIGINT NOT NULL,
    status_changed_at    BIGINT NOT NULL
);
CREATE INDEX practices_by_status ON practices (status, id);

-- Every person who signs in. One account per email address, of one kind.
CREATE TABLE users (
    id                     UUID PRIMARY KEY NOT NULL,
    email                  TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    name                   TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind                   TEXT NOT NULL CHECK (kind IN ('practice', 'client', 'outside')),
    active                 BOOLEAN NOT NULL DEFAULT TRUE,
    -- Argon2id PHC string; NULL until the user sets a password from a link.
    password_hash          TEXT CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    terms_version_accepted BIGINT,
    terms_accepted_at      BIGINT,
    created_at             BIGINT NOT NULL
);

-- A practice user's one practice and one role. The primary key on user_id
-- makes "one practice, one role" a fact of the schema.
CREATE TABLE practice_members (
    user_id     UUID PRIMARY KEY NOT NULL REFERENCES users (id),
    practice_id UUID NOT NULL REFERENCES practices (id),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'bookkeeper'))
);
CREATE INDEX practice_members_by_practice ON practice_members (practice_id, role, user_id);

CREATE TABLE clients (
    id         UUID PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at BIGINT NOT NULL
);

CREATE TABLE client_members (
    client_id UUID NOT NULL REFERENCES clients (id),
    user_id   UUID NOT NULL REFERENCES users (id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    PRIMARY KEY (client_id, user_id)
);
-- One owner per client.
CREATE UNIQUE INDEX client_members_one_owner ON client_members (client_id) WHERE role = 'owner';
CREATE INDEX client_members_by_user ON client_members (user_id, client_id);

-- Engagements (rule 2) and connections (rule 3): consent state machines.
-- `state_by` names the side that asked, declined or ended; active has none.
CREATE TABLE engagements (
    id          UUID PRIMARY KEY NOT NULL,
    practice_id UUID NOT NULL REFERENCES practices (id),
    client_id   UUID NOT NULL REFERENCES clients (id),
    state       TEXT NOT NULL CHECK (state IN ('requested', 'active', 'declined', 'revoked')),
    state_by    TEXT CHECK (state_by IN ('practice', 'counterparty')),
    changed_at  BIGINT NOT NULL,
    CHECK ((state = 'active') = (state_by IS NULL)),
    UNIQUE (practice_id, client_id)
);
CREATE INDEX engagements_by_client ON engagements (client_id, practice_id);

CREATE TABLE connections (
    id              UUID PRIMARY KEY NOT NULL,
    practice_id     UUID NOT NULL REFERENCES practices (id),
    outside_user_id UUID NOT NULL REFERENCES users (id),
    state           TEXT NOT NULL CHECK (state IN ('requested', 'active', 'declined', 'revoked')),
    state_by        TEXT CHECK (state_by IN ('practice', 'counterparty')),
    changed_at      BIGINT NOT NULL,
    CHECK ((state = 'active') = (state_by IS NULL)),
    UNIQUE (practice_id, outside_user_id)
);
CREATE INDEX connections_by_party ON connections (outside_user_id, practice_id);

-- An admin assigned a client to a staff member (rule 4).
CREATE TABLE client_assignments (
    user_id    UUID NOT NULL REFERENCES practice_members (user_id),
    client_id  UUID NOT NULL REFERENCES clients (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- The work model. Filings belong to one practice's work for one client.
CREATE TABLE filings (
    id           UUID PRIMARY KEY NOT NULL,
    practice_id  UUID NOT NULL REFERENCES practices (id),
    client_id    UUID NOT NULL REFERENCES clients (id),
    kind         TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 300),
    period_start DATE,
    period_end   DATE,
    due_on       DATE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'filed', 'cancelled')),
    created_at   BIGINT NOT NULL,
    changed_at   BIGINT NOT NULL,
    CHECK ((period_start IS NULL) = (period_end IS NULL)),
    CHECK (period_end IS NULL OR period_end >= period_start)
);
CREATE INDEX filings_by_client ON filings (client_id, practice_id, id);

CREATE TABLE tasks (
    id          UUID PRIMARY KEY NOT NULL,
    filing_id   UUID NOT NULL REFERENCES filings (id),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    status      TEXT NOT NULL CHECK (status IN ('to_do', 'in_progress', 'waiting_on_client', 'done')),
    assignee_id UUID REFERENCES practice_members (user_id),
    due_on      DATE,
    reviewer_id UUID REFERENCES practice_members (user_id),
    approver_id UUID REFERENCES practice_members (user_id),
    created_at  BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX tasks_by_filing ON tasks (filing_id, id);
-- The facts query and My Tasks start from the assignee.
CREATE INDEX tasks_by_assignee ON tasks (assignee_id, filing_id);

CREATE TABLE checklist_items (
    id       UUID PRIMARY KEY NOT NULL,
    task_id  UUID NOT NULL REFERENCES tasks (id),
    position BIGINT NOT NULL CHECK (position >= 0),
    text     TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 300),
    done     BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (task_id, position)
);

CREATE TABLE time_entries (
    id         UUID PRIMARY KEY NOT NULL,
    task_id    UUID NOT NULL REFERENCES tasks (id),
    user_id    UUID NOT NULL REFERENCES users (id),
    worked_on  DATE NOT NULL,
    minutes    BIGINT NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    note       TEXT CHECK (note IS NULL OR length(note) BETWEEN 1 AND 20000),
    created_at BIGINT NOT NULL
);
CREATE INDEX time_entries_by_task ON time_entries (task_id, id);

-- Task comments and filing discussion posts: exactly one of the two parents.
CREATE TABLE comments (
    id         UUID PRIMARY KEY NOT NULL,
    task_id    UUID REFERENCES tasks (id),
    filing_id  UUID REFERENCES filings (id),
    author_id  UUID NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at BIGINT NOT NULL,
    CHECK ((task_id IS NULL) <> (filing_id IS NULL))
);
CREATE INDEX comments_by_task ON comments (task_id, id);
CREATE INDEX comments_by_filing ON comments (filing_id, id);

-- Single-use, expiring tokens (set-password links, invitations). Only the
-- SHA-256 of the token is stored.
CREATE TABLE tokens (
    token_hash    BYTEA PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    purpose       TEXT NOT NULL CHECK (purpose IN ('set_password', 'accept_engagement', 'accept_connection')),
    engagement_id UUID REFERENCES engagements (id),
    connection_id UUID REFERENCES connections (id),
    user_id       UUID NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    CHECK ((purpose = 'accept_engagement') = (engagement_id IS NOT NULL)),
    CHECK ((purpose = 'accept_connection') = (connection_id IS NOT NULL)),
    CHECK (expires_at > created_at)
);
CREATE INDEX tokens_by_user ON tokens (user_id, purpose);

-- Sessions: opaque tokens, stored hashed, revocable, expiring.
CREATE TABLE sessions (
    id         UUID PRIMARY KEY NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id    UUID NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at   BIGINT,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Quotas (rule 8). Add-ons bought on top of the plan.
CREATE TABLE add_ons (
    id          UUID PRIMARY KEY NOT NULL,
    practice_id UUID NOT NULL REFERENCES practices (id),
    kind        TEXT NOT NULL CHECK (kind IN ('storage', 'throughput')),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX add_ons_by_practice ON add_ons (practice_id, starts_at);

-- Committed usage: storage held (period '') and throughput per month
-- (period 'YYYY-MM', UTC).
CREATE TABLE quota_usage (
    practice_id UUID NOT NULL REFERENCES practices (id),
    kind        TEXT NOT NULL CHECK (kind IN ('storage', 'throughput')),
    period      TEXT NOT NULL CHECK ((kind = 'storage' AND period = '') OR (kind = 'throughput' AND length(period) = 7)),
    used        BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (practice_id, kind, period)
);

-- Transfers in flight. An unexpired reservation counts as used; one left by
-- a crash expires and is reclaimed.
CREATE TABLE quota_reservations (
    id          UUID PRIMARY KEY NOT NULL,
    practice_id UUID NOT NULL REFERENCES practices (id),
    storage     BIGINT NOT NULL CHECK (storage >= 0),
    throughput  BIGINT NOT NULL CHECK (throughput >= 0),
    period      TEXT NOT NULL CHECK (length(period) = 7),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX quota_reservations_by_practice ON quota_reservations (practice_id, expires_at);
CREATE INDEX quota_reservations_by_expiry ON quota_reservations (expires_at);

-- One 80% warning per allowance per month.
CREATE TABLE quota_warnings (
    practice_id UUID NOT NULL REFERENCES practices (id),
    kind        TEXT NOT NULL CHECK (kind IN ('storage', 'throughput')),
    period      TEXT NOT NULL CHECK (length(period) = 7),
    sent_at     BIGINT NOT NULL,
    PRIMARY KEY (practice_id, kind, period)
);

-- Files. A batch is one send; a document is one file of it.
CREATE TABLE documents (
    id            UUID PRIMARY KEY NOT NULL,
    batch_id      UUID NOT NULL,
    practice_id   UUID NOT NULL REFERENCES practices (id),
    client_id     UUID REFERENCES clients (id),
    connection_id UUID REFERENCES connections (id),
    uploader_id   UUID NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    size          BIGINT NOT NULL CHECK (size >= 0),
    content_type  TEXT NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
    sha256        BYTEA NOT NULL CHECK (length(sha256) = 32),
    blob_key      TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT,
    -- A document moves between a practice and a client, or over a connection.
    CHECK ((client_id IS NULL) <> (connection_id IS NULL))
);
CREATE INDEX documents_by_client ON documents (client_id, id);
CREATE INDEX documents_by_batch ON documents (batch_id);

CREATE TABLE document_recipients (
    document_id         UUID NOT NULL REFERENCES documents (id),
    user_id             UUID NOT NULL REFERENCES users (id),
    first_downloaded_at BIGINT,
    PRIMARY KEY (document_id, user_id)
);
CREATE INDEX document_recipients_by_user ON document_recipients (user_id, document_id);

-- The mail outbox, written in the same transaction as the change it reports.
CREATE TABLE mail_outbox (
    id              UUID PRIMARY KEY NOT NULL,
    to_email        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    practice_id     UUID REFERENCES practices (id),
    client_id       UUID REFERENCES clients (id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
-- The client email log is the outbox's messages about a client.
CREATE INDEX mail_outbox_by_client ON mail_outbox (client_id, id);

-- The audit log: append-only and tamper-evident. Each entry carries the hash
-- of the one before; `ferry-admin audit verify` walks the chain.
CREATE TABLE audit_log (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    UUID,
    action      TEXT NOT NULL,
    practice_id UUID,
    client_id   UUID,
    subject_id  UUID,
    detail      TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash        BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_by_practice ON audit_log (practice_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
