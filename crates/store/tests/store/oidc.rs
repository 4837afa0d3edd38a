//! The OpenID Connect provider's tables (issue 14), on both databases: relying
//! parties; signing keys sealed, rotated and served until their tokens expire; an
//! authorization request answered once, consented, its code issued once and
//! redeemed once with the sign-in recorded; consents switched off; the pairwise
//! `sub`; the resident sessions' idle end; a certificate's holder and status.

use super::suspension::{active_card, CARD};
use super::{admin, backends, open};
use maina_store::{
    AnsweredRequest, Keys, NewAuthRequest, NewRelyingParty, NewSigningKey, RequestStatus,
    SigninRecord, Store, StoreError,
};
use zeroize::Zeroizing;

fn party(client_id: &str, sector: &str) -> NewRelyingParty {
    NewRelyingParty {
        client_id: client_id.into(),
        name: format!("Party {client_id}"),
        kind: "auth".into(),
        redirect_uris: vec![
            "https://rp.example/cb".into(),
            "https://rp.example/cb2".into(),
        ],
        secret_hash: Some(vec![7u8; 32]),
        jwks: None,
        sector: sector.into(),
        id_token_alg: "ES256".into(),
        first_party: false,
    }
}

fn request(id: &str, challenge: u8, expires_at: i64) -> NewAuthRequest {
    NewAuthRequest {
        id: id.into(),
        challenge_hash: [challenge; 32],
        browser_hash: [9u8; 32],
        client_id: "rp-a".into(),
        redirect_uri: "https://rp.example/cb".into(),
        state: "st".into(),
        nonce: "".into(),
        code_challenge: "c".repeat(43),
        scope: "openid".into(),
        card_key: "auth".into(),
        expires_at,
    }
}

fn key(kid: &str) -> NewSigningKey {
    NewSigningKey {
        kid: kid.into(),
        alg: "ES256".into(),
        private_key: Zeroizing::new(format!("private {kid}").into_bytes()),
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
    }
}

/// Fills the provider's sealed columns (a signing key, an answered request with
/// facts), for the sealed-format and rotation checks.
pub(crate) async fn fill_sealed(store: &Store, resident: u64) {
    store
        .rotate_signing_keys(&[key("k0")], 0, &admin("test"))
        .await
        .unwrap();
    store
        .add_relying_party(&party("rp-a", "a"), &admin("test"))
        .await
        .unwrap();
    let far = maina_store::now_micros() + 3_600_000_000;
    store
        .put_auth_request(&request("sealed", 1, far))
        .await
        .unwrap();
    let answer = AnsweredRequest {
        resident_key: resident,
        serial: "AA01".into(),
    };
    assert!(store
        .answer_auth_request(
            "sealed",
            &[1; 32],
            &answer,
            Some(&("山田 花子", "1990-04-01"))
        )
        .await
        .unwrap());
}

#[tokio::test]
async fn parties_are_registered_once_listed_and_disabled() {
    for backend in backends("oidc_parties").await {
        let store = open(&backend.url).await;
        store
            .add_relying_party(&party("rp-a", "a.example"), &admin("test"))
            .await
            .unwrap();
        let again = store
            .add_relying_party(&party("rp-a", "x"), &admin("test"))
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(_))),
            "{}",
            backend.name
        );
        let found = store.relying_party("rp-a").await.unwrap().unwrap();
        assert_eq!(found.redirect_uris.len(), 2);
        assert_eq!(found.jwks, None);
        assert!(!found.disabled);
        store
            .disable_relying_party("rp-a", &admin("test"))
            .await
            .unwrap();
        assert!(store.relying_party("rp-a").await.unwrap().unwrap().disabled);
        assert!(matches!(
            store.disable_relying_party("rp-none", &admin("test")).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.relying_parties().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_request_is_answered_once_its_code_issued_once_and_redeemed_once() {
    for backend in backends("oidc_flow").await {
        let store = open(&backend.url).await;
        let resident = active_card(&store).await;
        store
            .add_relying_party(&party("rp-a", "a"), &admin("test"))
            .await
            .unwrap();
        let far = maina_store::now_micros() + 300_000_000;
        store
            .put_auth_request(&request("r1", 1, far))
            .await
            .unwrap();
        // An expired one cannot be answered.
        store.put_auth_request(&request("old", 2, 1)).await.unwrap();
        let answer = AnsweredRequest {
            resident_key: resident,
            serial: "AA01".into(),
        };
        let none: Option<&String> = None;
        assert!(!store
            .answer_auth_request("old", &[2; 32], &answer, none)
            .await
            .unwrap());
        // Another challenge's hash: nothing changes.
        assert!(!store
            .answer_auth_request("r1", &[2; 32], &answer, none)
            .await
            .unwrap());
        assert!(store
            .answer_auth_request("r1", &[1; 32], &answer, none)
            .await
            .unwrap());
        assert!(
            !store
                .answer_auth_request("r1", &[1; 32], &answer, none)
                .await
                .unwrap(),
            "replay on {}",
            backend.name
        );
        let found = store
            .auth_request_by_challenge(&[1; 32])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.status, RequestStatus::Answered);
        assert_eq!(found.resident_key, Some(resident));
        // Consent: the request moves on and the consent is kept.
        assert!(!store.has_consent(resident, "rp-a").await.unwrap());
        assert!(store
            .consent_auth_request("r1", resident, "rp-a")
            .await
            .unwrap());
        assert!(!store
            .consent_auth_request("r1", resident, "rp-a")
            .await
            .unwrap());
        assert!(store.has_consent(resident, "rp-a").await.unwrap());
        // The code: only from the listed statuses, once.
        assert!(!store
            .issue_code("r1", &[RequestStatus::Answered], &[5; 32], far)
            .await
            .unwrap());
        assert!(store
            .issue_code("r1", &[RequestStatus::Consented], &[5; 32], far)
            .await
            .unwrap());
        assert!(!store
            .issue_code("r1", &[RequestStatus::Consented], &[6; 32], far)
            .await
            .unwrap());
        let grant = store.code_grant(&[5; 32]).await.unwrap().unwrap();
        assert!(!grant.used);
        assert_eq!(grant.request.id, "r1");
        assert_eq!(grant.request.status, RequestStatus::Used);
        let signin = SigninRecord {
            request_id: "r1".into(),
            client_id: "rp-a".into(),
            resident_key: resident,
            at: maina_store::now_micros(),
            claims: "sub".into(),
        };
        assert!(store.redeem_code(&[5; 32], &signin).await.unwrap());
        assert!(
            !store.redeem_code(&[5; 32], &signin).await.unwrap(),
            "code replay on {}",
            backend.name
        );
        assert!(store.code_grant(&[5; 32]).await.unwrap().unwrap().used);
        assert_eq!(store.signins_of(resident, 10).await.unwrap(), vec![signin]);
        // The resident switches the party off: its next sign-in asks again.
        assert!(store.revoke_consent(resident, "rp-a").await.unwrap());
        assert!(!store.revoke_consent(resident, "rp-a").await.unwrap());
        assert!(!store.has_consent(resident, "rp-a").await.unwrap());
    }
}

#[tokio::test]
async fn a_certificates_holder_and_status_come_from_one_read() {
    for backend in backends("oidc_holder").await {
        let store = open(&backend.url).await;
        let resident = active_card(&store).await;
        let holder = store.card_holder("auth", "AA01").await.unwrap().unwrap();
        assert_eq!(holder.card_id, CARD);
        assert_eq!(holder.resident_key, Some(resident));
        assert_eq!(holder.revoked_at, None);
        assert_eq!(
            store.card_holder("sign", "AA01").await.unwrap(),
            None,
            "{}",
            backend.name
        );
        assert_eq!(store.card_holder("auth", "FFFF").await.unwrap(), None);
        store
            .suspend_card(CARD, &admin("helpline"), None)
            .await
            .unwrap();
        let holder = store.card_holder("auth", "AA01").await.unwrap().unwrap();
        assert_eq!(holder.card_state, "suspended");
        assert!(holder.revoked_at.is_some());
    }
}

#[tokio::test]
async fn the_pairwise_sub_is_stable_per_sector_and_keyed_by_the_key_file() {
    for backend in backends("oidc_pairwise").await {
        let store = open(&backend.url).await;
        let sub = store.pairwise_sub("bank.example", 7);
        assert_eq!(
            sub,
            store.pairwise_sub("bank.example", 7),
            "{}",
            backend.name
        );
        assert_ne!(sub, store.pairwise_sub("shop.example", 7));
        assert_ne!(sub, store.pairwise_sub("bank.example", 8));
        // The sector's length is in the input: no two (sector, key) pairs collide.
        assert_ne!(store.pairwise_sub("a", 7), store.pairwise_sub("a\0", 7));
        assert_eq!(sub.len(), 43);
        let dir = tempfile::tempdir().unwrap();
        let other = Store::open(
            &maina_store::sqlite_url(&dir.path().join("other.sqlite3")),
            &Keys::from_bytes([43u8; 32]),
        )
        .await
        .unwrap();
        assert_ne!(sub, other.pairwise_sub("bank.example", 7));
    }
}

#[tokio::test]
async fn a_retired_key_is_served_until_its_tokens_expire() {
    for backend in backends("oidc_keys").await {
        let store = open(&backend.url).await;
        store
            .rotate_signing_keys(&[key("k1")], 0, &admin("test"))
            .await
            .unwrap();
        let keys = store.signing_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            keys[0].private_key.as_slice(),
            b"private k1",
            "{}",
            backend.name
        );
        let soon = maina_store::now_micros() + 600_000_000;
        store
            .rotate_signing_keys(&[key("k2")], soon, &admin("test"))
            .await
            .unwrap();
        let keys = store.signing_keys().await.unwrap();
        let kids: Vec<(&str, bool)> = keys
            .iter()
            .map(|k| (k.kid.as_str(), k.retired_at.is_some()))
            .collect();
        assert_eq!(kids, [("k2", false), ("k1", true)]);
        // Rotated again with an end already passed: k2 and k1 are no longer served.
        store
            .rotate_signing_keys(&[key("k3")], 1, &admin("test"))
            .await
            .unwrap();
        let kids: Vec<String> = store
            .signing_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["k3"]);
    }
}

#[tokio::test]
async fn a_resident_session_ends_at_log_out_or_when_idle() {
    for backend in backends("oidc_sessions").await {
        let store = open(&backend.url).await;
        store.open_resident_session(&[1; 32], 42).await.unwrap();
        let session = store
            .resident_session(&[1; 32], 60_000_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.resident_key, 42, "{}", backend.name);
        assert_eq!(
            store.resident_session(&[2; 32], 60_000_000).await.unwrap(),
            None
        );
        // Idle longer than allowed: gone.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            store.resident_session(&[1; 32], 10_000).await.unwrap(),
            None
        );
        assert!(store.end_resident_session(&[1; 32]).await.unwrap());
        assert!(!store.end_resident_session(&[1; 32]).await.unwrap());
        assert_eq!(
            store.resident_session(&[1; 32], 60_000_000).await.unwrap(),
            None
        );
    }
}
