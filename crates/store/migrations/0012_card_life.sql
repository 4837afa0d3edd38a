-- The card's life after pickup: every change of a card's state, chip, certificates
-- or notes panel is one row of its history, with who, when and why (the audit
-- chain has the same event; this is the card's own view of it).
-- `seq` counts a card's events from 1; `kind` is maina_core::card::CardEventKind's
-- code; `reason` a code (a revocation reason, a PIN's name, ...) or ''; `details`
-- is sealed text of what the entry needs to show (a police report's receipt number
-- and station, a notes-panel entry), or NULL. Officer, role and municipality are
-- the actor's (municipality '' for the administrator and the public paths).
CREATE TABLE card_events (
    card_id TEXT NOT NULL REFERENCES cards (id),
    seq {int} NOT NULL,
    at {int} NOT NULL,
    kind TEXT NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    municipality TEXT NOT NULL,
    reason TEXT NOT NULL,
    details {bytes},
    PRIMARY KEY (card_id, seq)
);
