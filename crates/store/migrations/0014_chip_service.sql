-- The chip at the counter (issue 13): a PIN pad session may be opened for the
-- reset of ONE PIN of an active card (`reset_pin`: auth, sign, residence or
-- support; NULL for the pickup's four PINs). The new PIN typed on the pad is held
-- sealed in `pins` (state pins-held) only until the counter's reader writes it to
-- the chip through the issuer's protected command, then erased (NULL, state
-- written).
ALTER TABLE pinpad_sessions ADD COLUMN reset_pin TEXT;
CREATE INDEX pinpad_sessions_reset ON pinpad_sessions (card_id, reset_pin, state);
