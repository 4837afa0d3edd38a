-- Cards and the certificates issued for them.
-- The chip's content (private keys, PINs, the holder's data) is sealed; so is each
-- certificate (a signature certificate carries name, address, birth date and sex).
-- Serial, authority, validity and revocation stay in clear: CRLs and OCSP need them.
CREATE TABLE cards (
    id TEXT PRIMARY KEY,
    resident_id {int},
    status TEXT NOT NULL,
    created_at {int} NOT NULL,
    updated_at {int} NOT NULL,
    chip {bytes} NOT NULL
);
CREATE INDEX cards_resident ON cards (resident_id);
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    ca TEXT NOT NULL,
    card_id TEXT NOT NULL REFERENCES cards (id),
    not_before {int} NOT NULL,
    not_after {int} NOT NULL,
    der {bytes} NOT NULL,
    revoked_at {int},
    reason TEXT
);
CREATE INDEX certificates_card ON certificates (card_id);
CREATE INDEX certificates_revoked ON certificates (ca, revoked_at);
