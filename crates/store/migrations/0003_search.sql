-- Blind index for searching residents by birth date (and then name) within a
-- municipality: the key is a keyed hash (HMAC) of municipality and birth date, so
-- the table reveals neither; names are matched after decryption.
CREATE TABLE birth_index (
    key {int} NOT NULL,
    resident_id {int} NOT NULL,
    PRIMARY KEY (key, resident_id)
){without_rowid};
-- New entries land here first, in resident order (an append, like the residents
-- table), and are merged into birth_index in key order in bulk: random inserts
-- into a large index would dirty one page per resident (the "pending list" of
-- PostgreSQL's GIN indexes, for the same reason). Searches read both.
CREATE TABLE birth_index_pending (
    resident_id {int} NOT NULL,
    key {int} NOT NULL,
    PRIMARY KEY (resident_id, key)
){without_rowid};
