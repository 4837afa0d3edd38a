-- Offices where residents collect their cards, and the appointments they book.
--
-- `offices`: one per municipality (created with defaults on first use), edited by a
-- supervisor. Nothing personal: the hours are the compact text of
-- `maina_core::pickup::schedule` (e.g. `mon-fri 08:30-17:15`), `counters` how many
-- residents one slot serves, the booking window in days ahead.
CREATE TABLE offices (
    id {int} PRIMARY KEY,
    municipality TEXT NOT NULL UNIQUE,
    name_ja TEXT NOT NULL,
    name_en TEXT NOT NULL,
    address_ja TEXT NOT NULL,
    address_en TEXT NOT NULL,
    phone TEXT NOT NULL,
    hours TEXT NOT NULL,
    counters {int} NOT NULL,
    slot_minutes {int} NOT NULL,
    book_from_days {int} NOT NULL,
    book_to_days {int} NOT NULL,
    updated_at {int} NOT NULL,
    updated_by TEXT NOT NULL
);
-- Overbooking is impossible, on both databases, by one counted row per slot: a
-- booking's transaction creates the slot's row if missing (`INSERT ... ON CONFLICT
-- DO NOTHING`, capacity = the office's counters) and then takes a seat with ONE
-- conditional statement, `UPDATE slots SET booked = booked + 1 WHERE office_id = ..
-- AND starts_at = .. AND booked < capacity`, and books only if it changed a row.
-- SQLite has one writer at a time; on PostgreSQL a concurrent UPDATE of the same row
-- waits for the first to commit and re-checks `booked < capacity` on the new row
-- (READ COMMITTED), so two bookings can never both take the last seat; the CHECK
-- is the last line of defence. A cancellation gives the seat back in its own
-- transaction (`booked = booked - 1`). `starts_at`: Unix seconds.
CREATE TABLE slots (
    office_id {int} NOT NULL REFERENCES offices (id),
    starts_at {int} NOT NULL,
    capacity {int} NOT NULL,
    booked {int} NOT NULL,
    PRIMARY KEY (office_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
){without_rowid};
-- An appointment holds a seat of a slot for an issue notice. A notice has at most
-- one live (not cancelled) appointment: the partial unique index; moving is a
-- cancellation and a booking in one transaction.
CREATE TABLE appointments (
    id {int} PRIMARY KEY,
    office_id {int} NOT NULL REFERENCES offices (id),
    starts_at {int} NOT NULL,
    notice_id {int} NOT NULL REFERENCES issue_notices (id),
    created_at {int} NOT NULL,
    cancelled_at {int},
    reminded_at {int}
);
CREATE UNIQUE INDEX appointments_live ON appointments (notice_id) WHERE cancelled_at IS NULL;
CREATE INDEX appointments_day ON appointments (office_id, starts_at);
CREATE INDEX appointments_reminders ON appointments (starts_at, reminded_at);
