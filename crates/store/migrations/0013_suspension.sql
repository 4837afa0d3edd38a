-- Loss and suspension (issue 13): a suspended card's authentication certificate is
-- put on hold, and a lift takes the hold away. `lifted_at` (microseconds) is when a
-- hold was last lifted: the next delta CRL lists such a certificate as
-- removeFromCRL, so relying parties that hold the base CRL drop it.
ALTER TABLE certificates ADD COLUMN lifted_at {int};
CREATE INDEX certificates_lifted ON certificates (ca, lifted_at);
-- Delta CRLs (RFC 5280 5.2.4): the base CRL (`der`) is re-signed by the CRL worker
-- when stale, however long a million serials take; the delta, signed within a second
-- of a revocation, lists every revocation and lift since the base's thisUpdate (less
-- a margin). Complete and delta CRLs share one number sequence: `number` is the last
-- number taken by either, `base_number` the stored base's. `delta_built_revision` is
-- the revision the stored delta lists, `delta_number` its number; `delta_base_number` the base it extends.
ALTER TABLE crls ADD COLUMN base_number {int} NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN delta_number {int} NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN delta_built_revision {int} NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN delta_base_number {int} NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN delta_next_update {int} NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN delta_der {bytes};
-- A lift's one-time challenge (the card present at the counter signs it with its
-- authentication key): only its SHA-256 is kept, it ends at `expires_at`
-- (microseconds) and is deleted when used. One open challenge per card.
CREATE TABLE lift_challenges (
    card_id TEXT PRIMARY KEY REFERENCES cards (id),
    digest {bytes} NOT NULL,
    officer TEXT NOT NULL,
    expires_at {int} NOT NULL
);
