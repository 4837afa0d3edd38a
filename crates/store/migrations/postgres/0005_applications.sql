-- Notices (個人番号通知書) with their application form IDs, applications for the card,
-- their events, and the durable e-mail outbox.
-- Form IDs and receipt numbers are found through 64-bit keyed hashes; each match is
-- confirmed with a full keyed hash that also covers the birth date, so the status
-- inquiry compares one value, in constant time, and stores no birth date in clear.
CREATE TABLE notices (
    resident_id BIGINT PRIMARY KEY,
    form_key BIGINT NOT NULL UNIQUE,
    form_id BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    printed_at BIGINT,
    mail_status TEXT NOT NULL,
    mail_status_at BIGINT NOT NULL
);
CREATE INDEX notices_unprinted ON notices (printed_at);
CREATE TABLE applications (
    id BIGINT PRIMARY KEY,
    form_key BIGINT NOT NULL,
    receipt_key BIGINT NOT NULL UNIQUE,
    form_check BYTEA NOT NULL,
    receipt_check BYTEA NOT NULL,
    resident_id BIGINT NOT NULL,
    municipality TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    status_since BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    details BYTEA NOT NULL,
    photo BYTEA,
    stuck_notified_at BIGINT
);
CREATE INDEX applications_form ON applications (form_key);
CREATE INDEX applications_status ON applications (status, status_since);
CREATE TABLE application_events (
    application_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    recorded_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (application_id, version)
);
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    message BYTEA NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
-- One-time links of the online channel: the e-mailed link's token is stored only as
-- its SHA-256; the form and the applicant's name and e-mail are sealed.
CREATE TABLE apply_links (
    token_hash BYTEA PRIMARY KEY,
    form_key BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    details BYTEA NOT NULL
);
