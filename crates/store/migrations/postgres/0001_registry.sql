-- maina resident registry, PostgreSQL. Ids are sequential row keys handed out by
-- the counters table, so the primary-key index only ever grows at its right edge.
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL);
CREATE TABLE municipalities (
    code TEXT PRIMARY KEY,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL
);
CREATE TABLE residents (
    id BIGINT PRIMARY KEY,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    number_key BIGINT NOT NULL,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    registration BYTEA NOT NULL,
    current BYTEA
);
CREATE TABLE resident_events (
    resident_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    event BYTEA NOT NULL,
    PRIMARY KEY (resident_id, version)
);
CREATE TABLE numbers (
    number_key BIGINT PRIMARY KEY,
    resident_id BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    retired_at BIGINT,
    retired_reason BYTEA,
    replaced_by BIGINT
);
-- Keyed hashes (HMAC) of foreign residents' nationality + passport + birth date:
-- finds the same person again (a return, a duplicate) without storing the passport.
CREATE TABLE identity_index (identity BIGINT PRIMARY KEY, resident_id BIGINT NOT NULL);
CREATE TABLE imports (
    file_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    next_line BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE import_rejections (
    file_hash TEXT NOT NULL,
    line BIGINT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (file_hash, line)
);
CREATE TABLE bench_ceiling (
    id BIGINT PRIMARY KEY,
    municipality TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    number_key BIGINT NOT NULL,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    registration BYTEA NOT NULL,
    current BYTEA
);
