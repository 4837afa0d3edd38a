//! The signature-verification service's tables (issue 15), on both databases:
//! verifiers registered once, listed and disabled; a certificate's holder; the
//! holder's newest signature certificate not revoked, across their cards.

use super::suspension::{active_card, certificate, CARD};
use super::{admin, backends, open};
use maina_core::card::RevocationReason;
use maina_store::{NewSignatureVerifier, StoreError};

fn verifier(client_id: &str, follow: bool) -> NewSignatureVerifier {
    NewSignatureVerifier {
        client_id: client_id.into(),
        name: format!("Verifier {client_id}"),
        secret_hash: vec![7u8; 32],
        sector: "bank.example".into(),
        follow,
    }
}

#[tokio::test]
async fn verifiers_are_registered_once_listed_and_disabled() {
    for backend in backends("signature_verifiers").await {
        let store = open(&backend.url).await;
        store
            .add_signature_verifier(&verifier("sv-a", true), &admin("test"))
            .await
            .unwrap();
        let again = store
            .add_signature_verifier(&verifier("sv-a", false), &admin("test"))
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(_))),
            "{}",
            backend.name
        );
        let found = store.signature_verifier("sv-a").await.unwrap().unwrap();
        assert!(found.follow && !found.disabled, "{}", backend.name);
        assert_eq!(found.secret_hash, vec![7u8; 32]);
        assert_eq!(found.sector, "bank.example");
        assert_eq!(store.signature_verifier("sv-none").await.unwrap(), None);
        store
            .disable_signature_verifier("sv-a", &admin("test"))
            .await
            .unwrap();
        assert!(
            store
                .signature_verifier("sv-a")
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
        assert!(matches!(
            store
                .disable_signature_verifier("sv-none", &admin("test"))
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.signature_verifiers().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_newest_signature_certificate_is_found_across_the_holders_cards() {
    for backend in backends("signature_successor").await {
        let store = open(&backend.url).await;
        let resident = active_card(&store).await;
        assert_eq!(
            store.certificate_holder("BB02").await.unwrap(),
            Some(resident)
        );
        assert_eq!(store.certificate_holder("FFFF").await.unwrap(), None);
        let newest = store.newest_signature_certificate(resident).await.unwrap();
        assert_eq!(newest.unwrap().serial, "BB02", "{}", backend.name);
        // The address changes: the card's certificates revoked, none good left.
        store
            .revoke_card(CARD, RevocationReason::FactsChanged, &admin("test"))
            .await
            .unwrap();
        let revoked = store
            .certificate_status("sign", "BB02")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(revoked.reason.as_deref(), Some("facts-changed"));
        assert_eq!(
            store.newest_signature_certificate(resident).await.unwrap(),
            None
        );
        // A new card with a new signature certificate: that one is the newest.
        let mut newer = certificate("CC03", "sign");
        newer.not_before += 100;
        store
            .put_card(
                "1123456789ABCDEF",
                Some(resident),
                b"chip",
                &[certificate("CC01", "auth"), newer],
                &admin("test"),
            )
            .await
            .unwrap();
        let newest = store.newest_signature_certificate(resident).await.unwrap();
        assert_eq!(newest.unwrap().serial, "CC03", "{}", backend.name);
        assert_eq!(
            store.certificate_holder("CC03").await.unwrap(),
            Some(resident)
        );
    }
}
