//! Shipments of cards from the card bureau, received by the municipality.

wire! {
    /// A shipment and its manifest.
    response ShipmentResponse {
        pub id: u64,
        pub municipality: String,
        /// When the bureau wrote it (RFC 3339).
        pub created_at: String,
        pub card_count: u64,
        /// When the municipality received it (RFC 3339), absent while in transit.
        pub received_at: Option<String>,
        /// The card numbers it carries (10 digits each).
        pub card_numbers: Vec<String>,
    }

    /// The card numbers counted (scanned) at receipt: they must be exactly the
    /// manifest's.
    request ReceiveShipmentRequest {
        pub counted: Vec<String>,
    }
}
