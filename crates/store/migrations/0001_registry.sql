-- maina resident registry. One source for both databases: the backend renders the
-- int token as INTEGER on SQLite (so an int primary key is the rowid: rows are
-- stored in key order and appended, never inserted at random places) and BIGINT on
-- PostgreSQL (ids are sequential keys from the counters table, so the primary-key
-- index only grows at its right edge); bytes as BLOB or BYTEA; without_rowid as
-- SQLite's WITHOUT ROWID (the table is its primary key) and nothing on PostgreSQL.
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, next_value {int} NOT NULL);
CREATE TABLE municipalities (
    code TEXT PRIMARY KEY,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE TABLE residents (
    id {int} PRIMARY KEY,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    version {int} NOT NULL,
    number_key {int} NOT NULL,
    registered_at {int} NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at {int} NOT NULL,
    registration {bytes} NOT NULL,
    current {bytes}
);
CREATE TABLE resident_events (
    resident_id {int} NOT NULL,
    version {int} NOT NULL,
    kind TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    recorded_at {int} NOT NULL,
    actor TEXT NOT NULL,
    event {bytes} NOT NULL,
    PRIMARY KEY (resident_id, version)
);
CREATE TABLE numbers (
    number_key {int} PRIMARY KEY,
    resident_id {int} NOT NULL,
    issued_at {int} NOT NULL,
    retired_at {int},
    retired_reason {bytes},
    replaced_by {int}
);
-- Keyed hashes (HMAC) of foreign residents' nationality + passport + birth date:
-- finds the same person again (a return, a duplicate) without storing the passport.
CREATE TABLE identity_index (identity {int} PRIMARY KEY, resident_id {int} NOT NULL);
CREATE TABLE imports (
    file_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    started_at {int} NOT NULL,
    next_line {int} NOT NULL,
    accepted {int} NOT NULL,
    rejected {int} NOT NULL,
    finished_at {int}
);
CREATE TABLE import_rejections (
    file_hash TEXT NOT NULL,
    line {int} NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (file_hash, line)
);
