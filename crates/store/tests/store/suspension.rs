//! Loss and suspension in the store: a suspension and a lift are each one
//! transaction (card state, certificates, CRL revision, history, audit); a lift's
//! challenge is hashed, short-lived and used once; refusals change nothing; the
//! delta CRL's changes and the shared CRL number sequence.

use super::{admin, backends, japanese, open, today};
use maina_core::card::RevocationReason;
use maina_store::{ChallengeRefusal, CrlDocument, NewCertificate, NewDeltaCrl, Store, StoreError};

pub(crate) const CARD: &str = "0123456789ABCDEF";

pub(crate) fn certificate(serial: &str, ca: &str) -> NewCertificate {
    NewCertificate {
        serial: serial.into(),
        ca: ca.into(),
        not_before: 1_700_000_000,
        not_after: 4_000_000_000,
        der: format!("certificate {serial}").into_bytes(),
    }
}

/// An active card (id [`CARD`]) of a new resident, with an authentication and a
/// signature certificate: answers the resident's key.
pub(crate) async fn active_card(store: &Store) -> u64 {
    let registered = store
        .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    store
        .put_card(
            CARD,
            Some(registered.resident_key),
            b"chip",
            &[certificate("AA01", "auth"), certificate("BB02", "sign")],
            &admin("test"),
        )
        .await
        .unwrap();
    registered.resident_key
}

async fn certificate_state(store: &Store, ca: &str, serial: &str) -> (Option<i64>, Option<String>) {
    let record = store.certificate_status(ca, serial).await.unwrap().unwrap();
    (record.revoked_at, record.reason)
}

#[tokio::test]
async fn suspension_and_lift_are_each_one_transaction() {
    for backend in backends("suspension").await {
        let store = open(&backend.url).await;
        let resident = active_card(&store).await;
        let auth_revision = store.crl_revision("auth").await.unwrap();
        let sign_revision = store.crl_revision("sign").await.unwrap();

        let done = store
            .suspend_card(
                CARD,
                &admin("helpline"),
                Some("police report: receipt R-1, station 丸の内"),
            )
            .await
            .unwrap();
        assert_eq!(
            (done.authentication, done.signature, done.resident_key),
            (
                vec!["AA01".to_string()],
                vec!["BB02".to_string()],
                Some(resident)
            ),
            "{}",
            backend.name
        );
        assert_eq!(store.card_record(CARD).await.unwrap().status, "suspended");
        let (at, reason) = certificate_state(&store, "auth", "AA01").await;
        assert!(at.is_some());
        assert_eq!(reason.as_deref(), Some("certificate-hold"));
        assert_eq!(
            certificate_state(&store, "sign", "BB02").await.1.as_deref(),
            Some("lost-card")
        );
        // Every cached OCSP answer of both authorities is stale at once.
        assert!(store.crl_revision("auth").await.unwrap() > auth_revision);
        assert!(store.crl_revision("sign").await.unwrap() > sign_revision);
        let history = store.card_history(CARD).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(
            (
                last.kind.as_str(),
                last.reason.as_str(),
                last.details.as_deref()
            ),
            (
                "suspended",
                "certificate-hold",
                Some("police report: receipt R-1, station 丸の内")
            )
        );
        let actions: Vec<String> = store
            .audit_events(Some(resident))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"card.suspend".to_string()), "{actions:?}");

        // A second suspension is refused and changes nothing.
        let events = store.card_history(CARD).await.unwrap().len();
        let revision = store.crl_revision("auth").await.unwrap();
        assert!(matches!(
            store.suspend_card(CARD, &admin("helpline"), None).await,
            Err(StoreError::Illegal(message)) if message.contains("suspended")
        ));
        assert_eq!(store.card_history(CARD).await.unwrap().len(), events);
        assert_eq!(store.crl_revision("auth").await.unwrap(), revision);

        // The lift's challenge: missing, expired, another — each refused, nothing
        // changed.
        let digest = [7u8; 32];
        let refused = |r: Result<Result<_, ChallengeRefusal>, StoreError>| r.unwrap().err();
        assert_eq!(
            refused(
                store
                    .lift_suspension(CARD, &digest, &admin("counter"), "found")
                    .await
            ),
            Some(ChallengeRefusal::Missing)
        );
        let past = maina_store::now_micros() - 1;
        store
            .put_lift_challenge(CARD, &digest, &admin("counter"), past)
            .await
            .unwrap();
        assert_eq!(
            refused(
                store
                    .lift_suspension(CARD, &digest, &admin("counter"), "found")
                    .await
            ),
            Some(ChallengeRefusal::Expired)
        );
        let soon = maina_store::now_micros() + 60_000_000;
        store
            .put_lift_challenge(CARD, &digest, &admin("counter"), soon)
            .await
            .unwrap();
        assert_eq!(
            refused(
                store
                    .lift_suspension(CARD, &[8u8; 32], &admin("counter"), "found")
                    .await
            ),
            Some(ChallengeRefusal::Different)
        );
        assert_eq!(store.card_record(CARD).await.unwrap().status, "suspended");
        assert_eq!(store.card_history(CARD).await.unwrap().len(), events);

        // The right one: active again, the hold gone, the signature still revoked.
        let lifted = store
            .lift_suspension(CARD, &digest, &admin("counter"), "found at the counter")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lifted.authentication, vec!["AA01".to_string()]);
        assert_eq!(store.card_record(CARD).await.unwrap().status, "active");
        assert_eq!(
            certificate_state(&store, "auth", "AA01").await,
            (None, None)
        );
        assert_eq!(
            certificate_state(&store, "sign", "BB02").await.1.as_deref(),
            Some("lost-card")
        );
        let last = store.card_history(CARD).await.unwrap().pop().unwrap();
        assert_eq!(last.kind, "suspension-lifted");
        // The next delta lists the lifted hold (removeFromCRL); the signature
        // certificate stays listed.
        let changes = store.crl_changes_since("auth", 0).await.unwrap();
        assert_eq!(changes.lifted.len(), 1);
        assert!(changes.revoked.is_empty(), "{changes:?}");
        let sign = store.crl_changes_since("sign", 0).await.unwrap();
        assert_eq!(sign.revoked[0].0, "BB02");
        // The challenge was used: once.
        assert_eq!(
            refused(
                store
                    .lift_suspension(CARD, &digest, &admin("counter"), "again")
                    .await
            ),
            Some(ChallengeRefusal::Missing)
        );

        // An abolished card can never be lifted (nor suspended).
        store
            .suspend_card(CARD, &admin("helpline"), None)
            .await
            .unwrap();
        store
            .revoke_card(CARD, RevocationReason::Death, &admin("test"))
            .await
            .unwrap();
        // The hold became a revocation for good.
        assert_eq!(
            certificate_state(&store, "auth", "AA01").await.1.as_deref(),
            Some("death")
        );
        store
            .put_lift_challenge(CARD, &digest, &admin("counter"), soon)
            .await
            .unwrap();
        assert!(matches!(
            store.lift_suspension(CARD, &digest, &admin("counter"), "found").await,
            Err(StoreError::Illegal(message)) if message.contains("revoked")
        ));
        // Refused in the transaction: the challenge is still there, unused.
        assert_eq!(store.card_record(CARD).await.unwrap().status, "revoked");
        assert!(store
            .suspend_card(CARD, &admin("helpline"), None)
            .await
            .is_err());
    }
}

#[tokio::test]
async fn cards_are_found_by_their_printed_number() {
    for backend in backends("suspension_numbers").await {
        let store = open(&backend.url).await;
        active_card(&store).await;
        let unknown: maina_core::CardNumber = maina_core::CardNumber::from_serial(99).unwrap();
        assert!(
            store.card_by_number(&unknown).await.unwrap().is_none(),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn complete_and_delta_crls_share_one_number_sequence() {
    for backend in backends("suspension_delta").await {
        let store = open(&backend.url).await;
        let first = store.reserve_crl_number("auth").await.unwrap();
        let second = store.reserve_crl_number("auth").await.unwrap();
        assert_eq!((first, second), (1, 2), "{}", backend.name);
        // The other authority has its own sequence.
        assert_eq!(store.reserve_crl_number("sign").await.unwrap(), 1);
        // A base stored with the first number: the delta follows it.
        let base = maina_store::NewCrl {
            built_revision: 1,
            number: first,
            this_update: 100,
            next_update: 200,
            der: b"base".to_vec(),
        };
        assert!(store.put_crl("auth", &base).await.unwrap());
        let delta = NewDeltaCrl {
            built_revision: 1,
            number: second,
            base_number: first,
            next_update: 300,
            der: b"delta".to_vec(),
        };
        assert!(store.put_delta_crl("auth", &delta).await.unwrap());
        // An older delta never replaces a newer one.
        assert!(!store
            .put_delta_crl(
                "auth",
                &NewDeltaCrl {
                    number: first,
                    ..delta.clone()
                }
            )
            .await
            .unwrap());
        let stored = store.stored_delta_crl("auth").await.unwrap();
        assert_eq!(
            (
                stored.base_number,
                stored.base_this_update,
                stored.number,
                store
                    .crl_document("auth", CrlDocument::Delta)
                    .await
                    .unwrap()
                    .as_deref()
            ),
            (first, 100, second, Some(&b"delta"[..]))
        );
        // The sequence's last number is the delta's; the base's is kept apart.
        let crl = store.stored_crl("auth").await.unwrap();
        assert_eq!((crl.number, crl.base_number), (second, first));
    }
}
