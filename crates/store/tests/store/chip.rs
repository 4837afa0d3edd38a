//! The chip at the counter in the store: the per-card issuer key comes from the key
//! file; certificates renewed on the same chip revoke the old ones in the same
//! transaction (only for an active card); a new PIN held for a reset is erased when
//! written or when a newer PIN pad opens.

use super::suspension::{active_card, certificate, CARD};
use super::{admin, backends, open};
use maina_core::card::RevocationReason;
use maina_store::{Keys, Store, StoreError};

#[tokio::test]
async fn the_issuer_key_is_per_card_and_comes_from_the_key_file() {
    for backend in backends("chip_issuer_key").await {
        let store = open(&backend.url).await;
        let key = store.card_issuer_key(CARD);
        assert_eq!(*key, *store.card_issuer_key(CARD), "{}", backend.name);
        assert_ne!(*key, *store.card_issuer_key("0123456789ABCDEE"));
        assert_ne!(*key, [0u8; 32]);
        // Another key file, another issuer.
        let dir = tempfile::tempdir().unwrap();
        let other = Store::open(
            &maina_store::sqlite_url(&dir.path().join("other.sqlite3")),
            &Keys::from_bytes([43u8; 32]),
        )
        .await
        .unwrap();
        assert_ne!(*key, *other.card_issuer_key(CARD));
    }
}

#[tokio::test]
async fn renewed_certificates_revoke_the_old_ones_only_on_an_active_card() {
    for backend in backends("chip_renewal").await {
        let store = open(&backend.url).await;
        active_card(&store).await;
        let mut revoked = store
            .renew_certificates(
                CARD,
                &[certificate("AA03", "auth"), certificate("BB04", "sign")],
                &admin("counter"),
            )
            .await
            .unwrap();
        revoked.sort();
        assert_eq!(revoked, ["AA01", "BB02"], "{}", backend.name);
        let certificates = store.card_certificates(CARD).await.unwrap();
        for certificate in &certificates {
            let old = certificate.serial == "AA01" || certificate.serial == "BB02";
            assert_eq!(certificate.revoked_at.is_some(), old, "{certificate:?}");
            if old {
                assert_eq!(certificate.reason.as_deref(), Some("renewed"));
            }
        }
        // The signature certificate alone: the authentication one stays good.
        let revoked = store
            .renew_certificates(CARD, &[certificate("BB05", "sign")], &admin("counter"))
            .await
            .unwrap();
        assert_eq!(revoked, ["BB04"]);
        let history = store.card_history(CARD).await.unwrap();
        let issued: Vec<_> = history
            .iter()
            .filter(|e| e.kind == "certificates-issued")
            .map(|e| e.details.clone().unwrap_or_default())
            .collect();
        assert_eq!(issued, ["auth,sign", "sign"]);
        // An abolished card renews nothing, and nothing is recorded.
        store
            .revoke_card(CARD, RevocationReason::LostCard, &admin("counter"))
            .await
            .unwrap();
        let before = store.card_certificates(CARD).await.unwrap().len();
        let refused = store
            .renew_certificates(CARD, &[certificate("AA06", "auth")], &admin("counter"))
            .await
            .unwrap_err();
        assert!(matches!(refused, StoreError::Illegal(_)), "{refused:?}");
        assert_eq!(store.card_certificates(CARD).await.unwrap().len(), before);
        assert!(store.certificate("AA06").await.is_err());
    }
}

#[tokio::test]
async fn a_new_pin_held_for_a_reset_is_erased_when_written_or_replaced() {
    for backend in backends("chip_pin_reset").await {
        let store = open(&backend.url).await;
        let resident = active_card(&store).await;
        let far = maina_store::now_micros() + 600_000_000;
        let first = [1u8; 32];
        store
            .open_pin_reset_pad(&first, 1, CARD, "auth", far, resident, &admin("counter"))
            .await
            .unwrap();
        let session = store.open_pinpad_session(&first).await.unwrap();
        assert_eq!(
            session.reset_pin.as_deref(),
            Some("auth"),
            "{}",
            backend.name
        );
        store
            .pinpad_hold_pins(&session, b"2468", Some(resident), &admin("pad"))
            .await
            .unwrap();
        let (hash, pin) = store.held_reset_pin(CARD, "auth").await.unwrap().unwrap();
        assert_eq!(
            (hash.as_slice(), pin.as_slice()),
            (&first[..], &b"2468"[..])
        );
        assert!(store.held_reset_pin(CARD, "sign").await.unwrap().is_none());
        // A newer pad for the card erases what the older one held.
        let second = [2u8; 32];
        store
            .open_pin_reset_pad(&second, 1, CARD, "auth", far, resident, &admin("counter"))
            .await
            .unwrap();
        assert!(store.held_reset_pin(CARD, "auth").await.unwrap().is_none());
        let session = store.open_pinpad_session(&second).await.unwrap();
        store
            .pinpad_hold_pins(&session, b"1357", Some(resident), &admin("pad"))
            .await
            .unwrap();
        store
            .pin_reset_written(CARD, Some(&second), "auth", "new-pin", &admin("counter"))
            .await
            .unwrap();
        assert!(store.held_reset_pin(CARD, "auth").await.unwrap().is_none());
        let last = store.card_history(CARD).await.unwrap().pop().unwrap();
        assert_eq!(
            (
                last.kind.as_str(),
                last.reason.as_str(),
                last.details.as_deref()
            ),
            ("pin-reset", "auth", Some("new-pin"))
        );
        // Written once: the same session again is a conflict, nothing recorded.
        let again = store
            .pin_reset_written(CARD, Some(&second), "auth", "new-pin", &admin("counter"))
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::Conflict));
        let count = store.card_history(CARD).await.unwrap().len();
        assert_eq!(count, last.seq as usize);
    }
}
