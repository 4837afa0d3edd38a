-- Signing in with the card (issue 14), hardened.
--
-- The `jti` of every private_key_jwt client assertion accepted: SHA-256 of the
-- client id and the jti, kept until the assertion's `exp` (plus the leeway the
-- check allows), so the same assertion is good once (RFC 7523 3, OIDC Core 9).
CREATE TABLE oidc_assertion_jtis (
    jti_hash {bytes} PRIMARY KEY,
    expires_at {int} NOT NULL
);
CREATE INDEX oidc_assertion_jtis_expiry ON oidc_assertion_jtis (expires_at);
-- The sign-ins whose tokens are revoked: a code presented a second time revokes
-- the access token issued from it (RFC 6749 4.1.2, 10.5); kept until that token
-- has expired.
CREATE TABLE oidc_revoked (
    request_id TEXT PRIMARY KEY,
    expires_at {int} NOT NULL
);
-- Why the card's answer to a request's challenge was refused (a reason code:
-- `suspended`, `expired`, `certificate-revoked`, `wrong-key`, ...), recorded only
-- after the certificate's key had signed that challenge, for the page of the
-- browser that made the request; kept until the request ends.
CREATE TABLE oidc_refusals (
    request_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    expires_at {int} NOT NULL
);
