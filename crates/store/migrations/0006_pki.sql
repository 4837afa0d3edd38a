-- The current CRL of each issuing CA, signed once and served from here: a GET of a
-- CRL only reads this row. `revision` counts the revocations of the authority (each
-- revocation's transaction adds one); the stored CRL was built from the revocations
-- as of `built_revision`, so it is stale while revision > built_revision (or when its
-- next_update nears), and the CRL worker (or `maina pki crl`) signs the next one.
CREATE TABLE crls (
    ca TEXT PRIMARY KEY,
    revision {int} NOT NULL,
    built_revision {int} NOT NULL,
    number {int} NOT NULL,
    this_update {int} NOT NULL,
    next_update {int} NOT NULL,
    der {bytes}
);
INSERT INTO crls (ca, revision, built_revision, number, this_update, next_update)
    VALUES ('auth', 1, 0, 0, 0, 0);
INSERT INTO crls (ca, revision, built_revision, number, this_update, next_update)
    VALUES ('sign', 1, 0, 0, 0, 0);
-- The chip's version: a save names the version it read and fails if another process
-- saved in between (two `maina card attach` of one card cannot each get every PIN
-- try).
ALTER TABLE cards ADD COLUMN chip_version {int} NOT NULL DEFAULT 0;
