-- The card's notes panel (追記欄) and its moves between municipalities (issue 13,
-- items 5 and 6).
-- `cards.notes`: the sealed notes panel (maina_core::card::NotesPanel as JSON, at
-- place card/ID/notes), NULL while nothing is written.
-- `card_moves`: a card's pending move, at most one per card: `state` is 'out' (a
-- move-out registered with the card, 転入届の特例: destination and planned date; due
-- is the last day a move-in keeps the card) or 'in' (moved in: due is the last day
-- continued use, 継続利用, may be confirmed). The row goes when continued use is
-- confirmed or the card is voided (the card's history keeps every step). Dates are
-- YYYY-MM-DD ('' or NULL: none), in clear so the voiding job finds the overdue ones by index.
ALTER TABLE cards ADD COLUMN notes {bytes};
CREATE TABLE card_moves (
    card_id TEXT PRIMARY KEY REFERENCES cards (id),
    resident_id {int} NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('out', 'in')),
    from_municipality TEXT NOT NULL,
    destination TEXT NOT NULL,
    planned_on TEXT,
    moved_on TEXT,
    due_on TEXT NOT NULL
);
CREATE INDEX card_moves_due ON card_moves (due_on);
CREATE INDEX card_moves_resident ON card_moves (resident_id);
