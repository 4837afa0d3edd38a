-- Issue notices (交付通知書): one per card received by its municipality. The notice
-- number is found through a 64-bit keyed hash and confirmed with a full keyed hash
-- that also covers the holder's birth date (as the status inquiry does), so the
-- booking page compares one value and no number or birth date is stored in clear.
-- `deadline` is the date printed on the notice (YYYY-MM-DD); a reminder is sent at
-- `reminder_at`, and a card never collected is destroyed after `destroy_after`.
CREATE TABLE issue_notices (
    id {int} PRIMARY KEY,
    number_key {int} NOT NULL UNIQUE,
    number_check {bytes} NOT NULL,
    card_id TEXT NOT NULL UNIQUE REFERENCES cards (id),
    application_id {int} NOT NULL,
    resident_id {int} NOT NULL,
    municipality TEXT NOT NULL,
    office_id {int},
    created_at {int} NOT NULL,
    deadline TEXT NOT NULL,
    printed_at {int},
    emailed_at {int},
    reminded_at {int},
    closed_at {int},
    closed_reason TEXT,
    details {bytes} NOT NULL
);
CREATE INDEX issue_notices_municipality ON issue_notices (municipality, printed_at);
CREATE INDEX issue_notices_open ON issue_notices (closed_at, created_at);
