-- Shared throttles: attempts per (scope, subject, window), counted in the database
-- so that every server process over it counts together. The subject (a looked-up
-- number, a client address) is stored only as a 64-bit keyed hash.
CREATE TABLE throttles (
    scope TEXT NOT NULL,
    subject {int} NOT NULL,
    window_start {int} NOT NULL,
    hits {int} NOT NULL,
    expires_at {int} NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
){without_rowid};
CREATE INDEX throttles_expiry ON throttles (expires_at);
