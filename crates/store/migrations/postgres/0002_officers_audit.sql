-- Officers, their sessions, and the hash-chained audit trail.
CREATE TABLE officers (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    officer_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Append-only: each event's hash covers the previous event's hash, so editing,
-- removing or reordering an event breaks the chain from there on; audit_head holds
-- the last link, so removing events at the end is seen too.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    action TEXT NOT NULL,
    resident_id BIGINT,
    purpose TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_events_by_resident ON audit_events (resident_id, seq);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash BYTEA NOT NULL);
