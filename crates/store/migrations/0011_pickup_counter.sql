-- Pickup at the counter: the PIN pad sessions and the hand-overs.
-- A PIN pad session pairs the counter officer (`officer`, who opened it) with the full-screen PIN pad page by a
-- short one-time code, stored only as its SHA-256. The PINs typed on the pad go
-- straight to the chip and are never stored, except for a card delivered home: then
-- they are sealed in `pins` until written to the chip at issue, and erased (NULL).
-- A counter session names its card; a home-delivery session, opened when the
-- resident applies in person, names only the application (the card is not made yet).
-- `state`: open, pins-set (written to the chip), pins-held (sealed, home delivery),
-- written (held PINs written and erased), expired.
CREATE TABLE pinpad_sessions (
    code_hash {bytes} PRIMARY KEY,
    application_id {int} NOT NULL,
    card_id TEXT REFERENCES cards (id),
    officer TEXT NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    state TEXT NOT NULL,
    pins {bytes},
    used_at {int}
);
CREATE INDEX pinpad_sessions_card ON pinpad_sessions (card_id, state);
CREATE INDEX pinpad_sessions_application ON pinpad_sessions (application_id, state);
-- A card is handed over once (card_id is the key). The documents checked and who
-- came (proxy, representative) are sealed; the proxy reason, the cards surrendered
-- and whether certificates were declined are not personal and stay in clear.
-- `kind`: counter (handed over at the counter) or home (posted, then delivered);
-- `proxy_reason` is '' when the holder came.
CREATE TABLE handovers (
    card_id TEXT PRIMARY KEY REFERENCES cards (id),
    application_id {int} NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    officer TEXT NOT NULL,
    at {int} NOT NULL,
    checks {bytes} NOT NULL,
    proxy_reason TEXT NOT NULL,
    representative {int} NOT NULL,
    surrendered TEXT NOT NULL,
    certificates_declined {int} NOT NULL,
    express_fee_yen {int},
    delivered_at {int}
);
