//! The card bureau's batches and the municipality's receipt: a card per approved
//! application at most once, a batch all or nothing, a shipment received only when
//! the cards counted equal its manifest.

use super::*;
use maina_core::application::{ApplicationEvent, ApplicationStatus, Channel};
use maina_core::{ApplicationFormId, CardNumber, ReceiptNumber};
use maina_store::{ManifestMismatch, ManufacturedCard};

/// Approves the application with `receipt` and ships a card for it; answers the
/// card number.
pub(super) async fn ship_one(store: &Store, receipt: &ReceiptNumber) -> CardNumber {
    let application = store.application_by_receipt(receipt).await.unwrap();
    for event in [ApplicationEvent::StartReview, ApplicationEvent::Approve] {
        store
            .transition_application(application.id, &event, &admin("bureau"), |_, _| None)
            .await
            .unwrap();
    }
    let application = store.application(application.id).await.unwrap();
    let number = store.reserve_card_numbers(1).await.unwrap().remove(0);
    store
        .ship_cards(
            &"131016".parse().unwrap(),
            &[made(&application, "FEDCBA9876543210", number)],
            &admin("bureau"),
        )
        .await
        .unwrap();
    number
}

fn made(
    application: &maina_store::ApplicationRecord,
    card_id: &str,
    number: CardNumber,
) -> ManufacturedCard {
    ManufacturedCard {
        application_id: application.id,
        application_version: application.version,
        resident_key: application.resident_key,
        card_id: card_id.into(),
        card_number: number,
        expires_on: NaiveDate::from_ymd_opt(2036, 4, 1).unwrap(),
        chip: b"chip".to_vec(),
        face: b"%PDF face".to_vec(),
        certificates: vec![],
    }
}

#[tokio::test]
async fn cards_are_made_once_and_shipments_received_only_as_listed() {
    for backend in backends("manufacture").await {
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let form = ApplicationFormId::new("131016".parse().unwrap(), 1111222233334444).unwrap();
        store
            .put_notice(registered.resident_key, &form, &admin("test"))
            .await
            .unwrap();
        let receipt = ReceiptNumber::new(123451234512345).unwrap();
        let application = store
            .submit_application(
                &hanako_application(form, receipt, Channel::Mail),
                &admin("test"),
                None,
            )
            .await
            .unwrap();
        // Not approved yet: nothing to make.
        let municipality = "131016".parse().unwrap();
        assert!(store
            .applications_to_manufacture(Some(&municipality), 0, 10)
            .await
            .unwrap()
            .is_empty());
        for event in [ApplicationEvent::StartReview, ApplicationEvent::Approve] {
            store
                .transition_application(application.id, &event, &admin("bureau"), |_, _| None)
                .await
                .unwrap();
        }
        assert_eq!(
            store.count_applications_to_manufacture(None).await.unwrap(),
            1,
            "{}",
            backend.name
        );
        let waiting = store
            .applications_to_manufacture(Some(&municipality), 0, 10)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1);
        let numbers = store.reserve_card_numbers(2).await.unwrap();
        assert_ne!(numbers[0], numbers[1]);
        let shipment = store
            .ship_cards(
                &municipality,
                &[made(&waiting[0], "00000000000000A1", numbers[0])],
                &admin("bureau"),
            )
            .await
            .unwrap();
        assert_eq!(shipment.card_count, 1);
        assert_eq!(shipment.manifest[0].card_number, numbers[0].as_digits());
        assert_eq!(
            store.application(application.id).await.unwrap().status,
            ApplicationStatus::Shipped
        );
        assert_eq!(
            store.card_face("00000000000000A1").await.unwrap(),
            b"%PDF face"
        );
        // A second run with the stale read makes nothing: no card twice.
        let again = store
            .ship_cards(
                &municipality,
                &[made(&waiting[0], "00000000000000A2", numbers[1])],
                &admin("bureau"),
            )
            .await;
        assert!(again.is_err(), "{}", backend.name);
        assert!(store.card("00000000000000A2").await.is_err());
        assert_eq!(store.shipments(&municipality).await.unwrap().len(), 1);

        // Receipt: a missing card and an extra one are both named; nothing changes.
        let outcome = store
            .receive_shipment(shipment.id, &[numbers[1]], &admin("counter"))
            .await
            .unwrap();
        assert_eq!(
            outcome.unwrap_err(),
            ManifestMismatch {
                missing: vec![numbers[0].as_digits()],
                extra: vec![numbers[1].as_digits()],
            }
        );
        assert_eq!(
            store.application(application.id).await.unwrap().status,
            ApplicationStatus::Shipped
        );
        let received = store
            .receive_shipment(shipment.id, &[numbers[0]], &admin("counter"))
            .await
            .unwrap()
            .unwrap();
        assert!(received.received_at.is_some());
        assert_eq!(
            store.card("00000000000000A1").await.unwrap().0.status,
            "received"
        );
        assert_eq!(
            store.application(application.id).await.unwrap().status,
            ApplicationStatus::AtMunicipality
        );
        // Received once.
        assert!(store
            .receive_shipment(shipment.id, &[numbers[0]], &admin("counter"))
            .await
            .is_err());
    }
}
