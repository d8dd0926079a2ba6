-- Transfers and resumable uploads, PostgreSQL dialect; migrations/sqlite/0003_transfers.sql
-- is the same in SQLite's dialect. Never edit an applied migration: add the next one.
--
-- A transfer is one send (a batch): a sender, what it is about (a client, or a
-- connection with an outside party) and its recipients. A multipart send makes
-- it complete at once; a send made of resumable (tus) uploads stays open until
-- its sender completes it, and its recipients are told then, once.
CREATE TABLE transfers (
    id            UUID PRIMARY KEY NOT NULL,
    practice_id   UUID NOT NULL REFERENCES practices (id),
    client_id     UUID REFERENCES clients (id),
    connection_id UUID REFERENCES connections (id),
    sender_id     UUID NOT NULL REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    completed_at  BIGINT,
    CHECK ((client_id IS NULL) <> (connection_id IS NULL))
);
CREATE INDEX transfers_by_sender ON transfers (sender_id, id);

CREATE TABLE transfer_recipients (
    transfer_id UUID NOT NULL REFERENCES transfers (id),
    user_id     UUID NOT NULL REFERENCES users (id),
    PRIMARY KEY (transfer_id, user_id)
);

-- A resumable upload in progress. Its bytes are kept as segments (one per
-- request that delivered bytes) until the last byte arrives and they become
-- one document. Its reservation holds its quota; an upload past `expires_at`
-- is abandoned and reclaimed with its segments.
CREATE TABLE uploads (
    id             UUID PRIMARY KEY NOT NULL,
    transfer_id    UUID NOT NULL REFERENCES transfers (id),
    uploader_id    UUID NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
    length         BIGINT CHECK (length IS NULL OR length >= 0),
    received       BIGINT NOT NULL CHECK (received >= 0),
    reservation_id UUID NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    CHECK (length IS NULL OR received <= length),
    CHECK (expires_at > created_at)
);
CREATE INDEX uploads_by_expiry ON uploads (expires_at);
CREATE INDEX uploads_by_transfer ON uploads (transfer_id);

CREATE TABLE upload_segments (
    upload_id  UUID NOT NULL REFERENCES uploads (id),
    first_byte BIGINT NOT NULL CHECK (first_byte >= 0),
    size       BIGINT NOT NULL CHECK (size > 0),
    blob_key   TEXT NOT NULL UNIQUE,
    PRIMARY KEY (upload_id, first_byte)
);

-- Inbox and outbox: a user's documents, newest first.
CREATE INDEX documents_by_uploader ON documents (uploader_id, id);
