-- maina resident registry, SQLite. `INTEGER PRIMARY KEY` makes the id the rowid:
-- rows are stored in key order and appended, never inserted at random places.
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, next_value INTEGER NOT NULL);
CREATE TABLE municipalities (
    code TEXT PRIMARY KEY,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    number_key INTEGER NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    registration BLOB NOT NULL,
    current BLOB
);
CREATE TABLE resident_events (
    resident_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    event BLOB NOT NULL,
    PRIMARY KEY (resident_id, version)
);
CREATE TABLE numbers (
    number_key INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    retired_at INTEGER,
    retired_reason BLOB,
    replaced_by INTEGER
);
-- Keyed hashes (HMAC) of foreign residents' nationality + passport + birth date:
-- finds the same person again (a return, a duplicate) without storing the passport.
CREATE TABLE identity_index (identity INTEGER PRIMARY KEY, resident_id INTEGER NOT NULL);
CREATE TABLE imports (
    file_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    next_line INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE import_rejections (
    file_hash TEXT NOT NULL,
    line INTEGER NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (file_hash, line)
);
CREATE TABLE bench_ceiling (
    id INTEGER PRIMARY KEY,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    number_key INTEGER NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    registration BLOB NOT NULL,
    current BLOB
);
