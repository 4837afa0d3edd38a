//! Pickup at the counter in the store: the hand-over is one transaction and
//! happens once; PIN pad codes are single-use; held PINs are sealed and erased when
//! written.

use super::{admin, backends, fill_every_sealed_column, open};
use maina_core::application::ApplicationEvent;
use maina_core::pickup::identity::{PickupChecks, PickupForm};
use maina_core::{CardNumber, ReceiptNumber};
use maina_store::{HandOverRecord, NewCertificate, Store, StoreError};

fn checks() -> PickupChecks {
    let form = PickupForm {
        documents: vec!["passport".into()],
        surrendered: vec!["notification-card".into()],
        ..PickupForm::default()
    };
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
    PickupChecks::new(&form, birth, super::today()).unwrap()
}

/// Receives the shipment carrying the card `number` (made for the application
/// under `receipt`), tells the resident it is ready, hands the card over; then holds
/// PINs for the application on a PIN pad (so both sealed columns of the counter are
/// filled). Answers the card id.
pub(super) async fn hand_over_and_hold_pins(
    store: &Store,
    resident: u64,
    receipt: &ReceiptNumber,
    number: CardNumber,
) -> String {
    let shipment = store
        .shipments(&"131016".parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.received_at.is_none())
        .unwrap();
    store
        .receive_shipment(shipment.id, &[number], &admin("counter"))
        .await
        .unwrap()
        .unwrap();
    let id = store.application_by_receipt(receipt).await.unwrap().id;
    store
        .transition_application(
            id,
            &ApplicationEvent::NotifyPickup,
            &admin("test"),
            |_, _| None,
        )
        .await
        .unwrap();
    let card_id = "FEDCBA9876543210";
    let (card, _) = store.counter_card(card_id).await.unwrap();
    assert_eq!(card.status, "received");
    let record = HandOverRecord {
        card_id: card_id.into(),
        application_id: id,
        kind: "counter",
        chip: b"chip with certificates".to_vec(),
        chip_version: card.chip_version,
        certificates: vec![NewCertificate {
            serial: "BB02".into(),
            ca: "auth".into(),
            not_before: 1_700_000_000,
            not_after: 4_000_000_000,
            der: b"certificate".to_vec(),
        }],
        checks: checks(),
        express_fee_yen: None,
    };
    store.hand_over(&record, &admin("counter")).await.unwrap();
    let hash = [9u8; 32];
    let expires = maina_store::now_micros() + 600_000_000;
    store
        .open_pinpad(&hash, id, None, expires, resident, &admin("counter"))
        .await
        .unwrap();
    let session = store.open_pinpad_session(&hash).await.unwrap();
    store
        .pinpad_hold_pins(
            &session,
            b"1234\nABC123\n1234\n1234",
            Some(resident),
            &admin("pad"),
        )
        .await
        .unwrap();
    card_id.into()
}

#[tokio::test]
async fn a_card_is_handed_over_once_in_one_transaction() {
    for backend in backends("counter").await {
        let store = open(&backend.url).await;
        fill_every_sealed_column(&store).await;
        let card_id = "FEDCBA9876543210";
        let (card, chip) = store.counter_card(card_id).await.unwrap();
        assert_eq!(card.status, "active", "{}", backend.name);
        assert_eq!(chip, b"chip with certificates");
        assert!(store.handed_over(card_id).await.unwrap());
        let application = store
            .application(card.application_id.unwrap())
            .await
            .unwrap();
        assert_eq!(application.status.code(), "handed-over");
        assert_eq!(store.card_certificates(card_id).await.unwrap().len(), 1);
        // Held PINs open for the home delivery of the same application.
        assert_eq!(
            store.held_pins(application.id).await.unwrap().as_deref(),
            Some(&b"1234\nABC123\n1234\n1234"[..])
        );
        // A second hand-over changes nothing, the certificate with it included.
        let again = HandOverRecord {
            card_id: card_id.into(),
            application_id: application.id,
            kind: "counter",
            chip: b"other".to_vec(),
            chip_version: card.chip_version,
            certificates: vec![NewCertificate {
                serial: "CC03".into(),
                ca: "auth".into(),
                not_before: 1_700_000_000,
                not_after: 4_000_000_000,
                der: b"certificate".to_vec(),
            }],
            checks: checks(),
            express_fee_yen: None,
        };
        let refused = store
            .hand_over(&again, &admin("counter"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Illegal(_)), "{refused}");
        assert_eq!(store.card_certificates(card_id).await.unwrap().len(), 1);
        assert_eq!(
            store.counter_card(card_id).await.unwrap().1,
            b"chip with certificates"
        );
        // A PIN pad code works once.
        let hash = [7u8; 32];
        let expires = maina_store::now_micros() + 600_000_000;
        store
            .open_pinpad(
                &hash,
                application.id,
                Some(card_id),
                expires,
                application.resident_key,
                &admin("counter"),
            )
            .await
            .unwrap();
        let session = store.open_pinpad_session(&hash).await.unwrap();
        store
            .pinpad_pins_written(
                &session,
                b"chip with pins",
                card.chip_version,
                None,
                &admin("pad"),
            )
            .await
            .unwrap();
        assert!(matches!(
            store.open_pinpad_session(&hash).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(store
            .pinpad_pins_written(
                &session,
                b"again",
                card.chip_version + 1,
                None,
                &admin("pad")
            )
            .await
            .is_err());
        store.close().await;
    }
}
