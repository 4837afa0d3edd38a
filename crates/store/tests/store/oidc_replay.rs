//! The provider's replay guards and refusal notes (issue 14, hardened), on both
//! databases: a client assertion's jti is spent once and kept until it expires;
//! a revoked request's tokens are known as such; a refusal is noted only for a
//! pending request, the latest wins; a code is spent once; all pruned at expiry.

use super::{admin, backends, open};
use maina_store::{NewAuthRequest, NewRelyingParty};

#[tokio::test]
async fn jtis_revocations_and_refusal_notes_are_kept_once_until_they_expire() {
    for backend in backends("oidc_replay").await {
        let store = open(&backend.url).await;
        let now = maina_store::now_micros();
        let soon = now + 60_000_000;
        // A jti: once.
        assert!(store.spend_assertion_jti(&[1; 32], soon).await.unwrap());
        assert!(
            !store.spend_assertion_jti(&[1; 32], soon).await.unwrap(),
            "replay on {}",
            backend.name
        );
        assert!(store.spend_assertion_jti(&[2; 32], now - 1).await.unwrap());
        // Revocations.
        assert!(!store.request_tokens_revoked("r1").await.unwrap());
        store.revoke_request_tokens("r1", soon).await.unwrap();
        store.revoke_request_tokens("r1", soon).await.unwrap();
        assert!(store.request_tokens_revoked("r1").await.unwrap());
        // A refusal note: only for a pending request; the latest wins.
        store
            .add_relying_party(
                &NewRelyingParty {
                    client_id: "rp-a".into(),
                    name: "A".into(),
                    kind: "auth".into(),
                    redirect_uris: vec!["https://rp.example/cb".into()],
                    secret_hash: None,
                    jwks: None,
                    sector: "a".into(),
                    id_token_alg: "ES256".into(),
                    first_party: false,
                },
                &admin("test"),
            )
            .await
            .unwrap();
        store
            .put_auth_request(&NewAuthRequest {
                id: "q1".into(),
                challenge_hash: [3; 32],
                browser_hash: [4; 32],
                client_id: "rp-a".into(),
                redirect_uri: "https://rp.example/cb".into(),
                state: "".into(),
                nonce: "".into(),
                code_challenge: "c".repeat(43),
                scope: "openid".into(),
                card_key: "auth".into(),
                expires_at: soon,
            })
            .await
            .unwrap();
        store.note_refusal("nope", "suspended").await.unwrap();
        assert_eq!(store.refusal_of("nope").await.unwrap(), None);
        store.note_refusal("q1", "wrong-key").await.unwrap();
        store.note_refusal("q1", "suspended").await.unwrap();
        assert_eq!(
            store.refusal_of("q1").await.unwrap().as_deref(),
            Some("suspended"),
            "{}",
            backend.name
        );
        // A code spent once.
        assert!(store
            .issue_code("q1", &[maina_store::RequestStatus::Pending], &[5; 32], soon)
            .await
            .unwrap());
        assert!(store.spend_code(&[5; 32]).await.unwrap());
        assert!(!store.spend_code(&[5; 32]).await.unwrap());
        // Pruned: only what expired.
        assert_eq!(store.prune_oidc_replay(now).await.unwrap(), 1);
        assert_eq!(store.prune_oidc_replay(soon + 1).await.unwrap(), 0);
        assert!(!store.spend_assertion_jti(&[1; 32], soon).await.unwrap());
    }
}
