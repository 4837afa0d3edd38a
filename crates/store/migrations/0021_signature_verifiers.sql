-- Signature verifiers (署名検証者, issue 15): relying parties that ask whether a CMS
-- signature made with a card's signature certificate is valid, and the
-- certificate's status then and now. Each has its own client id and secret (shown
-- once; only the secret's SHA-256 is kept, as for the OIDC parties); `sector` keys
-- the pairwise identifier (the same value a sign-in gives a party of that sector);
-- `follow` (0/1) allows following a signer whose certificate was revoked for a
-- change of name or address to the signer's newest signature certificate.
CREATE TABLE signature_verifiers (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash {bytes} NOT NULL,
    sector TEXT NOT NULL,
    follow {int} NOT NULL DEFAULT 0,
    disabled {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL
);
