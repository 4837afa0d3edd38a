-- Notices (個人番号通知書) with their application form IDs, applications for the card,
-- their events, and the durable e-mail outbox.
-- Form IDs and receipt numbers are found through 64-bit keyed hashes; each match is
-- confirmed with a full keyed hash that also covers the birth date, so the status
-- inquiry compares one value, in constant time, and stores no birth date in clear.
CREATE TABLE notices (
    resident_id INTEGER PRIMARY KEY,
    form_key INTEGER NOT NULL UNIQUE,
    form_id BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    printed_at INTEGER,
    mail_status TEXT NOT NULL,
    mail_status_at INTEGER NOT NULL
);
CREATE INDEX notices_unprinted ON notices (printed_at);
CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    form_key INTEGER NOT NULL,
    receipt_key INTEGER NOT NULL UNIQUE,
    form_check BLOB NOT NULL,
    receipt_check BLOB NOT NULL,
    resident_id INTEGER NOT NULL,
    municipality TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    status_since INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    details BLOB NOT NULL,
    photo BLOB,
    stuck_notified_at INTEGER
);
CREATE INDEX applications_form ON applications (form_key);
CREATE INDEX applications_status ON applications (status, status_since);
CREATE TABLE application_events (
    application_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    recorded_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (application_id, version)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT,
    message BLOB NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
-- One-time links of the online channel: the e-mailed link's token is stored only as
-- its SHA-256; the form and the applicant's name and e-mail are sealed.
CREATE TABLE apply_links (
    token_hash BLOB PRIMARY KEY,
    form_key INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    details BLOB NOT NULL
);
