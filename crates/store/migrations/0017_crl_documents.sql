-- The signed CRLs apart from their counters: SQLite rewrites a whole row on every
-- UPDATE, and every revocation bumps `crls.revision`, so a base CRL of a million
-- serials (43 MB) kept in that row was rewritten by each suspension (~150 ms each,
-- the whole of the suspension's cost at that size). `crls` keeps the small
-- counters; `crl_documents` one signed CRL per authority and kind (base | delta),
-- written only when a CRL is signed and read only when one is served.
CREATE TABLE crl_documents (
    ca TEXT NOT NULL,
    kind TEXT NOT NULL,
    der {bytes} NOT NULL,
    PRIMARY KEY (ca, kind)
);
INSERT INTO crl_documents (ca, kind, der) SELECT ca, 'base', der FROM crls WHERE der IS NOT NULL;
INSERT INTO crl_documents (ca, kind, der) SELECT ca, 'delta', delta_der FROM crls WHERE delta_der IS NOT NULL;
ALTER TABLE crls DROP COLUMN der;
ALTER TABLE crls DROP COLUMN delta_der;
