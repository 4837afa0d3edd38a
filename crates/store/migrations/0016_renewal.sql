-- Reissue and renewal (issue 13): a new card's application linked to the card it
-- replaces, with the fee the counter recorded, and the expiry letters written.
-- `replacements`: one row per reissue or renewal application; `reason` is
-- maina_core::card::ReissueReason's code; the fee in yen by part (0 when free);
-- `police` the police report's receipt number and station, sealed (NULL when none
-- was given); `replaced_at` set in the new card's hand-over transaction, when the
-- old card is abolished.
CREATE TABLE replacements (
    application_id {int} PRIMARY KEY,
    old_card_id TEXT NOT NULL REFERENCES cards (id),
    reason TEXT NOT NULL,
    card_fee_yen {int} NOT NULL,
    certificates_fee_yen {int} NOT NULL,
    police {bytes},
    officer TEXT NOT NULL,
    created_at {int} NOT NULL,
    replaced_at {int}
);
CREATE INDEX replacements_old_card ON replacements (old_card_id);
-- `expiry_letters`: one letter per card and end (`ends`: card | certificates, with
-- the day it falls on, YYYY-MM-DD), with the renewal form ID it printed (sealed,
-- found by the same keyed hash as a notice's form ID).
CREATE TABLE expiry_letters (
    card_id TEXT NOT NULL REFERENCES cards (id),
    ends TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    form_key {int} NOT NULL,
    form_id {bytes} NOT NULL,
    created_at {int} NOT NULL,
    PRIMARY KEY (card_id, ends, ends_on)
);
CREATE INDEX expiry_letters_form ON expiry_letters (form_key);
-- The daily expiry-letter job looks cards up by their last day.
CREATE INDEX cards_expires_on ON cards (expires_on);
