//! Renewal online with an expiry letter's form ID: the form ID names the card it
//! renews; an application made with it once the renewal is open is linked to that
//! card, free, with the card's event; before the window, with a letter about the
//! certificates only, or a second time, it is refused and leaves nothing.

use super::{admin, backends, hanako_application, japanese, open, today};
use maina_core::application::{ApplicationEvent, Channel};
use maina_core::card::ReissueReason;
use maina_core::{ApplicationFormId, ReceiptNumber};
use maina_store::{ManufacturedCard, RenewedCard, Store, StoreError};

/// A resident with a card `card_id` ending `days` days from today; answers the
/// resident's key.
async fn card_ending_in(store: &Store, card_id: &str, days: i64, serial: u64) -> u64 {
    let registered = store
        .register(japanese("更新").parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    let form = ApplicationFormId::new("131016".parse().unwrap(), serial).unwrap();
    store
        .put_notice(registered.resident_key, &form, &admin("test"))
        .await
        .unwrap();
    let receipt = ReceiptNumber::new(serial % ReceiptNumber::RANDOM_SPACE).unwrap();
    let application = store
        .submit_application(
            &hanako_application(form, receipt, Channel::Mail),
            &admin("test"),
            None,
        )
        .await
        .unwrap();
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
            &[ManufacturedCard {
                application_id: application.id,
                application_version: application.version,
                resident_key: application.resident_key,
                card_id: card_id.into(),
                card_number: number,
                expires_on: today() + chrono::Duration::days(days),
                chip: b"chip".to_vec(),
                face: b"%PDF face".to_vec(),
                certificates: vec![],
            }],
            &admin("bureau"),
        )
        .await
        .unwrap();
    registered.resident_key
}

#[tokio::test]
async fn an_expiry_letters_form_id_applies_for_the_renewal_of_its_card_once_and_in_its_window() {
    for backend in backends("renewal_online").await {
        let store = open(&backend.url).await;
        let resident = card_ending_in(&store, "AAAA000011112222", 60, 2222_3333_4444_5555).await;
        let far = card_ending_in(&store, "BBBB000011112222", 400, 2222_3333_4444_6666).await;
        let letter = |card: &'static str, ends: &'static str, serial: u64| {
            let store = &store;
            async move {
                let form = ApplicationFormId::new("131016".parse().unwrap(), serial).unwrap();
                let day = store.card_record(card).await.unwrap().expires_on.unwrap();
                assert!(store
                    .record_expiry_letter(card, ends, &day, &form, &admin("letters"))
                    .await
                    .unwrap());
                form
            }
        };
        let renewal = letter("AAAA000011112222", "card", 7777_0000_0000_0001).await;
        let early = letter("BBBB000011112222", "card", 7777_0000_0000_0002).await;
        let certificates = letter("AAAA000011112222", "certificates", 7777_0000_0000_0003).await;

        let holder = store.form_holder(&renewal).await.unwrap().unwrap();
        assert_eq!(holder.resident_key, resident);
        let renews: &RenewedCard = holder.renews.as_ref().unwrap();
        assert_eq!(renews.card_id, "AAAA000011112222");
        assert!(renews.renewal_open(today()));
        let far_holder = store.form_holder(&early).await.unwrap().unwrap();
        assert_eq!(far_holder.resident_key, far);
        assert!(!far_holder.renews.as_ref().unwrap().renewal_open(today()));
        // A letter about the certificates sends the resident to the counter.
        assert_eq!(store.form_holder(&certificates).await.unwrap(), None);

        let apply = |form: ApplicationFormId, serial: u64| {
            let store = &store;
            async move {
                let receipt = ReceiptNumber::new(serial).unwrap();
                store
                    .submit_application(
                        &hanako_application(form, receipt, Channel::Smartphone),
                        &admin("public"),
                        None,
                    )
                    .await
            }
        };
        // Before its window: refused, nothing recorded.
        assert!(matches!(
            apply(early, 1234_5678_9012).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(store
            .replacements_of_card("BBBB000011112222")
            .await
            .unwrap()
            .is_empty());
        // In its window: the renewal of the card, free.
        let application = apply(renewal, 1234_5678_9013).await.unwrap();
        assert_eq!(application.resident_key, resident);
        let link = store.replacement(application.id).await.unwrap().unwrap();
        assert_eq!(link.old_card_id, "AAAA000011112222");
        assert_eq!(link.reason, ReissueReason::Expiry.code());
        assert_eq!((link.card_fee_yen, link.certificates_fee_yen), (0, 0));
        let history = store.card_history("AAAA000011112222").await.unwrap();
        assert!(
            history
                .iter()
                .any(|e| e.kind == "replacement-applied" && e.reason == "expiry"),
            "{history:?}"
        );
        // A second application with the same form ID is refused.
        assert!(apply(renewal, 1234_5678_9014).await.is_err());
        assert_eq!(
            store
                .replacements_of_card("AAAA000011112222")
                .await
                .unwrap()
                .len(),
            1
        );
        store.close().await;
    }
}
