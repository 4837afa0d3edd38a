-- Notices (個人番号通知書) with their application form IDs, applications for the card,
-- their events, and the durable e-mail outbox.
-- Form IDs and receipt numbers are found through 64-bit keyed hashes; each match is
-- confirmed with a full keyed hash that also covers the birth date, so the status
-- inquiry compares one value, in constant time, and stores no birth date in clear.
CREATE TABLE notices (
    resident_id {int} PRIMARY KEY,
    form_key {int} NOT NULL UNIQUE,
    form_id {bytes} NOT NULL,
    created_at {int} NOT NULL,
    printed_at {int},
    mail_status TEXT NOT NULL,
    mail_status_at {int} NOT NULL
);
CREATE INDEX notices_unprinted ON notices (printed_at);
CREATE TABLE applications (
    id {int} PRIMARY KEY,
    form_key {int} NOT NULL,
    receipt_key {int} NOT NULL UNIQUE,
    form_check {bytes} NOT NULL,
    receipt_check {bytes} NOT NULL,
    resident_id {int} NOT NULL,
    municipality TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    status_since {int} NOT NULL,
    created_at {int} NOT NULL,
    version {int} NOT NULL,
    details {bytes} NOT NULL,
    photo {bytes},
    stuck_notified_at {int}
);
CREATE INDEX applications_form ON applications (form_key);
CREATE INDEX applications_status ON applications (status, status_since);
CREATE TABLE application_events (
    application_id {int} NOT NULL,
    version {int} NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    recorded_at {int} NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (application_id, version)
);
CREATE TABLE outbox (
    id {int} PRIMARY KEY,
    created_at {int} NOT NULL,
    next_attempt_at {int} NOT NULL,
    attempts {int} NOT NULL,
    sent_at {int},
    last_error TEXT,
    message {bytes} NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
-- One-time links of the online channel: the e-mailed link's token is stored only as
-- its SHA-256; the form and the applicant's name and e-mail are sealed.
CREATE TABLE apply_links (
    token_hash {bytes} PRIMARY KEY,
    form_key {int} NOT NULL,
    created_at {int} NOT NULL,
    expires_at {int} NOT NULL,
    used_at {int},
    details {bytes} NOT NULL
);
