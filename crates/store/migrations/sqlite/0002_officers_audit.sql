-- Officers, their sessions, and the hash-chained audit trail.
CREATE TABLE officers (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    officer_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
-- Append-only: each event's hash covers the previous event's hash, so editing,
-- removing or reordering an event breaks the chain from there on; audit_head holds
-- the last link, so removing events at the end is seen too.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    action TEXT NOT NULL,
    resident_id INTEGER,
    purpose TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX audit_events_by_resident ON audit_events (resident_id, seq);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL);
