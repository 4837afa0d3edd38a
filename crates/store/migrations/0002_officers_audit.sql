-- Officers, their sessions, and the hash-chained audit trail.
CREATE TABLE officers (
    id {int} PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled {int} NOT NULL,
    failed_logins {int} NOT NULL,
    locked_until {int} NOT NULL,
    created_at {int} NOT NULL
);
CREATE TABLE sessions (
    token_hash {bytes} PRIMARY KEY,
    officer_id {int} NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL
);
-- Append-only: each event's hash covers the previous event's hash, so editing,
-- removing or reordering an event breaks the chain from there on; audit_head holds
-- the last link, so removing events at the end is seen too.
CREATE TABLE audit_events (
    seq {int} PRIMARY KEY,
    at {int} NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    action TEXT NOT NULL,
    resident_id {int},
    purpose TEXT NOT NULL,
    prev_hash {bytes} NOT NULL,
    hash {bytes} NOT NULL
);
CREATE INDEX audit_events_by_resident ON audit_events (resident_id, seq);
CREATE TABLE audit_head (id {int} PRIMARY KEY, seq {int} NOT NULL, hash {bytes} NOT NULL);
