-- Blind index for searching residents by birth date (and then name) within a
-- municipality: the key is a keyed hash (HMAC) of municipality and birth date, so
-- the table reveals neither; names are matched after decryption.
CREATE TABLE birth_index (
    key BIGINT NOT NULL,
    resident_id BIGINT NOT NULL,
    PRIMARY KEY (key, resident_id)
);
