//! Reissue and renewal in the store: the new card's application is linked to the
//! old card (a lost card still active is suspended in the same transaction); the
//! old card is abolished in the new card's hand-over transaction, and a hold on its
//! authentication certificate becomes a permanent revocation; a failed hand-over
//! leaves the old card as it was. Expiry letters are recorded once per card and end.

use super::{admin, backends, fill_every_sealed_column, hanako_application, japanese, open, today};
use maina_core::application::{ApplicationEvent, ApplicationStatus, Channel};
use maina_core::card::{ReissueFee, ReissueReason};
use maina_core::pickup::identity::{PickupChecks, PickupForm};
use maina_core::{ApplicationFormId, ReceiptNumber};
use maina_store::{
    HandOverRecord, NewCertificate, NewReplacement, PoliceReport, Store, StoreError,
};

fn certificate(serial: &str, ca: &str) -> NewCertificate {
    NewCertificate {
        serial: serial.into(),
        ca: ca.into(),
        not_before: 1_700_000_000,
        not_after: 4_000_000_000,
        der: b"certificate".to_vec(),
    }
}

fn replacement(old: &str, state: &str, reason: ReissueReason, serial: u64) -> NewReplacement {
    let form = ApplicationFormId::new("131016".parse().unwrap(), serial).unwrap();
    let receipt = ReceiptNumber::new(serial % ReceiptNumber::RANDOM_SPACE).unwrap();
    NewReplacement {
        old_card_id: old.into(),
        old_state: maina_core::card::CardState::from_code(state).unwrap(),
        reason,
        fee: ReissueFee::due(reason, true),
        police: Some(PoliceReport {
            receipt_number: "R-2026-0042".into(),
            station: "丸の内警察署".into(),
        }),
        application: hanako_application(form, receipt, Channel::Counter),
    }
}

/// Fills the sealed columns of reissue and renewal: a replacement of card
/// `0123456789ABCDEF` with its police report, and an expiry letter of card
/// `FEDCBA9876543210` (which ends on 2036-04-01).
pub(super) async fn replace_and_write_a_letter(store: &Store, resident: u64) {
    let old = store.card_record("0123456789ABCDEF").await.unwrap();
    store
        .apply_replacement(
            &replacement(&old.id, &old.status, ReissueReason::Damaged, 5555_6666_7777_8888),
            resident,
            &admin("counter"),
            || None,
        )
        .await
        .unwrap();
    let form = ApplicationFormId::new("131016".parse().unwrap(), 9999_8888_7777_6666).unwrap();
    assert!(store
        .record_expiry_letter("FEDCBA9876543210", "card", "2036-04-01", &form, &admin("letters"))
        .await
        .unwrap());
}

fn checks() -> PickupChecks {
    let form = PickupForm {
        documents: vec!["passport".into()],
        ..PickupForm::default()
    };
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
    PickupChecks::new(&form, birth, today()).unwrap()
}

#[tokio::test]
async fn a_lost_card_is_abolished_when_its_replacement_is_handed_over() {
    for backend in backends("renewal").await {
        let store = open(&backend.url).await;
        let resident = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap()
            .resident_key;
        let old = "00000000000A0001";
        store
            .put_card(
                old,
                Some(resident),
                b"old chip",
                &[certificate("A1", "auth"), certificate("A2", "sign")],
                &admin("test"),
            )
            .await
            .unwrap();
        // The card read as active but suspended since: nothing is recorded.
        let stale = replacement(old, "suspended", ReissueReason::Lost, 1111_2222_3333_4444);
        let refused = store
            .apply_replacement(&stale, resident, &admin("counter"), || None)
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Conflict), "{refused}");
        assert!(store.replacements_of_card(old).await.unwrap().is_empty());

        let lost = replacement(old, "active", ReissueReason::Lost, 1111_2222_3333_4444);
        let application = store
            .apply_replacement(&lost, resident, &admin("counter"), || None)
            .await
            .unwrap();
        assert_eq!(application.status, ApplicationStatus::Received);
        assert_eq!(application.channel, Channel::Counter);
        // Reported lost at the counter: suspended, authentication on hold.
        assert_eq!(store.card_record(old).await.unwrap().status, "suspended");
        let reasons = |certificates: Vec<maina_store::CertificateRecord>| {
            certificates
                .into_iter()
                .map(|c| (c.serial, c.reason.unwrap_or_default(), c.revoked_at))
                .collect::<Vec<_>>()
        };
        let held = reasons(store.card_certificates(old).await.unwrap());
        assert_eq!(held[0].0, "A1");
        assert_eq!(held[0].1, "certificate-hold");
        assert_eq!(held[1].1, "lost-card");
        let recorded = store.replacement(application.id).await.unwrap().unwrap();
        assert_eq!(recorded.old_card_id, old);
        assert_eq!((recorded.card_fee_yen, recorded.certificates_fee_yen), (800, 200));
        assert_eq!(recorded.police.as_ref().unwrap().station, "丸の内警察署");
        assert_eq!(recorded.replaced_at, None);
        let history = store.card_history(old).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["activated", "suspended", "replacement-applied"], "{}", backend.name);
        assert!(history[2].details.as_deref().unwrap().contains("R-2026-0042"));
        // One replacement under way at a time.
        let again = replacement(old, "suspended", ReissueReason::Lost, 1111_2222_3333_5555);
        assert!(matches!(
            store
                .apply_replacement(&again, resident, &admin("counter"), || None)
                .await,
            Err(StoreError::Duplicate(_))
        ));

        // The new card follows the issuance path ...
        for event in [
            ApplicationEvent::StartReview,
            ApplicationEvent::Approve,
            ApplicationEvent::Ship,
            ApplicationEvent::Receive,
            ApplicationEvent::NotifyPickup,
        ] {
            store
                .transition_application(application.id, &event, &admin("test"), |_, _| None)
                .await
                .unwrap();
        }
        let new = "00000000000B0001";
        store
            .put_received_card(new, resident, application.id, b"new chip", &admin("bureau"))
            .await
            .unwrap();
        let (card, _) = store.counter_card(new).await.unwrap();
        let record = |version: i64| HandOverRecord {
            card_id: new.into(),
            application_id: application.id,
            kind: "counter",
            chip: b"new chip with certificates".to_vec(),
            chip_version: version,
            certificates: vec![certificate("B1", "auth")],
            checks: checks(),
            express_fee_yen: None,
        };
        // ... a hand-over that fails leaves the old card as it was ...
        let failed = store
            .hand_over(&record(card.chip_version + 7), &admin("counter"))
            .await
            .unwrap_err();
        assert!(matches!(failed, StoreError::Conflict), "{failed}");
        assert_eq!(store.card_record(old).await.unwrap().status, "suspended");
        assert_eq!(reasons(store.card_certificates(old).await.unwrap()), held);
        // ... and the one that succeeds abolishes it in the same transaction: the
        // hold becomes a permanent revocation (its time kept).
        store
            .hand_over(&record(card.chip_version), &admin("counter"))
            .await
            .unwrap();
        assert_eq!(store.card_record(new).await.unwrap().status, "active");
        assert_eq!(store.card_record(old).await.unwrap().status, "revoked");
        let after = reasons(store.card_certificates(old).await.unwrap());
        assert_eq!(after[0].1, "lost-card");
        assert_eq!(after[0].2, held[0].2);
        assert_eq!(after[1], held[1]);
        let history = store.card_history(old).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!((last.kind.as_str(), last.reason.as_str()), ("abolished", "replaced"));
        assert!(store
            .replacement(application.id)
            .await
            .unwrap()
            .unwrap()
            .replaced_at
            .is_some());
        // Revoked for good: the old card's serials are in the CRL's list.
        let revoked = store.revoked_certificates("auth").await.unwrap();
        assert!(revoked.iter().any(|(serial, _, reason)| serial == "A1" && reason == "lost-card"));
        store.close().await;
    }
}

#[tokio::test]
async fn expiry_letters_are_recorded_once_per_card_and_end() {
    for backend in backends("expiry").await {
        let store = open(&backend.url).await;
        fill_every_sealed_column(&store).await;
        // Card FEDCBA9876543210 ends on 2036-04-01; its certificate in 2096.
        let near = store
            .cards_nearing_end("2036-05-01", 2_090_000_000, None)
            .await
            .unwrap();
        let card = near
            .iter()
            .find(|c| c.card_id == "FEDCBA9876543210")
            .unwrap_or_else(|| panic!("{near:?}"));
        assert_eq!(card.expires_on, "2036-04-01");
        assert_eq!(card.certificates_end, Some(4_000_000_000));
        assert_eq!(card.municipality, "131016");
        assert!(store
            .cards_nearing_end("2036-03-31", 2_090_000_000, None)
            .await
            .unwrap()
            .iter()
            .all(|c| c.card_id != "FEDCBA9876543210"));
        assert!(store
            .cards_nearing_end("2036-05-01", 2_090_000_000, Some("011002"))
            .await
            .unwrap()
            .is_empty());
        // The letter written by the fill is not written again; another end is.
        let form = ApplicationFormId::new("131016".parse().unwrap(), 1212_3434_5656_7878).unwrap();
        let letter = |ends: &'static str, day: &'static str| {
            let store = &store;
            async move {
                store
                    .record_expiry_letter("FEDCBA9876543210", ends, day, &form, &admin("letters"))
                    .await
                    .unwrap()
            }
        };
        assert!(!letter("card", "2036-04-01").await);
        assert!(letter("certificates", "2031-04-01").await);
        let kinds: Vec<String> = store
            .card_history("FEDCBA9876543210")
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "expiry-letter")
            .map(|e| format!("{} {}", e.reason, e.details.unwrap_or_default()))
            .collect();
        assert_eq!(kinds, ["card 2036-04-01", "certificates 2031-04-01"]);
        // The renewal uses the card letter's form ID.
        let renewal = store.renewal_form("FEDCBA9876543210").await.unwrap().unwrap();
        assert_eq!(
            renewal,
            ApplicationFormId::new("131016".parse().unwrap(), 9999_8888_7777_6666).unwrap()
        );
        assert_eq!(store.renewal_form("0123456789ABCDEF").await.unwrap(), None);
        store.close().await;
    }
}
