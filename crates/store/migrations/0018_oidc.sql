-- Signing in with the card (issue 14): maina as an OpenID Connect provider.
--
-- Relying parties: `redirect_uris` are the exact URIs, one a line; `secret_hash` the
-- SHA-256 of the client secret (256 random bits, shown once; no slow hash is
-- needed for a secret nobody chose); `jwks` the party's public JWK set for
-- private_key_jwt ('' when none); `sector` keys the pairwise `sub`; `kind` is `auth` (who you are)
-- or `facts` (the four facts too, with consent); `first_party` (the portal) needs no
-- consent page.
CREATE TABLE relying_parties (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('auth', 'facts')),
    redirect_uris TEXT NOT NULL,
    secret_hash {bytes},
    jwks TEXT NOT NULL DEFAULT '',
    sector TEXT NOT NULL,
    id_token_alg TEXT NOT NULL DEFAULT 'ES256',
    first_party {int} NOT NULL DEFAULT 0,
    disabled {int} NOT NULL DEFAULT 0,
    created_at {int} NOT NULL
);
-- The provider's signing keys (ES256 and RS256, made in pairs): the private key
-- sealed (PKCS#8), the public JWK in clear. The newest unretired key of an
-- algorithm signs; a retired key stays in the JWKS until `serve_until`
-- (microseconds), when the last token it signed has expired.
CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_key {bytes} NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at {int} NOT NULL,
    retired_at {int},
    serve_until {int}
);
-- An authorization request and its one-time card challenge: only the challenge's
-- SHA-256 is kept (the page shows the challenge, the card signs it); the browser
-- that made the request holds a cookie whose SHA-256 is `browser_hash`. Good until
-- `expires_at` (5 minutes). `key` is the card key that must answer (`auth`, or `sign`
-- for facts). Status: pending → answered → (consented) → used. Once answered:
-- the resident's row key, the certificate's serial, the facts (sealed, facts only).
CREATE TABLE oidc_requests (
    id TEXT PRIMARY KEY,
    challenge_hash {bytes} NOT NULL UNIQUE,
    browser_hash {bytes} NOT NULL,
    client_id TEXT NOT NULL REFERENCES relying_parties (client_id),
    redirect_uri TEXT NOT NULL,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope TEXT NOT NULL,
    card_key TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    resident_key {int},
    serial TEXT,
    facts {bytes},
    answered_at {int}
);
CREATE INDEX oidc_requests_expiry ON oidc_requests (expires_at);
-- Authorization codes: SHA-256 of the code, used once, short-lived.
CREATE TABLE oidc_codes (
    code_hash {bytes} PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES oidc_requests (id),
    expires_at {int} NOT NULL,
    used_at {int}
);
-- Every sign-in, for the resident's portal: the party, the resident, when, and the
-- claims shared (their names, comma-separated: `sub` or `sub,name,address,...`).
CREATE TABLE signins (
    request_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    resident_key {int} NOT NULL,
    at {int} NOT NULL,
    claims TEXT NOT NULL
);
CREATE INDEX signins_resident ON signins (resident_key, at);
-- A resident's consent to a party; a revoked consent asks again at the next sign-in.
CREATE TABLE consents (
    resident_key {int} NOT NULL,
    client_id TEXT NOT NULL,
    granted_at {int} NOT NULL,
    revoked_at {int},
    PRIMARY KEY (resident_key, client_id)
);
-- The portal's resident sessions: the cookie's SHA-256, 30 minutes idle.
CREATE TABLE resident_sessions (
    id_hash {bytes} PRIMARY KEY,
    resident_key {int} NOT NULL,
    created_at {int} NOT NULL,
    last_seen {int} NOT NULL,
    ended_at {int}
);
