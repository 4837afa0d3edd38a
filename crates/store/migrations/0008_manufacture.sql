-- Cards made from approved applications by the card bureau, and the numbered
-- shipments that carry them to their municipality.
-- A card made from an application names it (at most one card per application: a
-- re-run of the manufacturing job cannot make a second). Its face (the printed
-- front and back, with the photo and the My Number) is sealed; the card number,
-- expiry and shipment are not personal and stay in clear for the manifests.
ALTER TABLE cards ADD COLUMN application_id {int};
ALTER TABLE cards ADD COLUMN card_number TEXT;
ALTER TABLE cards ADD COLUMN expires_on TEXT;
ALTER TABLE cards ADD COLUMN shipment_id {int};
ALTER TABLE cards ADD COLUMN face {bytes};
CREATE UNIQUE INDEX cards_application ON cards (application_id);
CREATE UNIQUE INDEX cards_card_number ON cards (card_number);
CREATE INDEX cards_shipment ON cards (shipment_id);
-- A shipment: its manifest is the list of card ids and card numbers it carries
-- (JSON, nothing personal), checked card by card when the municipality receives it.
CREATE TABLE shipments (
    id {int} PRIMARY KEY,
    municipality TEXT NOT NULL,
    created_at {int} NOT NULL,
    card_count {int} NOT NULL,
    manifest {bytes} NOT NULL,
    received_at {int},
    received_by TEXT
);
CREATE INDEX shipments_municipality ON shipments (municipality, received_at);
