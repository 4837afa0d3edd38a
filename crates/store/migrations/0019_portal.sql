-- The resident portal (issue 14): each resident's wish to be e-mailed at every new
-- access to their record by an officer. `email` is sealed (the address and the
-- language of the mail); NULL when the resident switched the e-mails off. The
-- notification worker's cursor (the last audit event it looked at) is the `meta`
-- row 'portal.notified_seq': the worker follows the audit trail.
CREATE TABLE portal_preferences (
    resident_key {int} PRIMARY KEY,
    notify_access {int} NOT NULL,
    email {bytes},
    updated_at {int} NOT NULL
);
-- The portal lists a resident's applications.
CREATE INDEX applications_by_resident ON applications (resident_id, id);
