//! Signing in with the card (issue 14): the refusals — a challenge, a code and a
//! verifier are good once and only for their owner; a wrong signature, a suspended
//! card, a redirect URI not registered (never redirected), no PKCE, an auth-only
//! party asking for the facts.

use super::counter::chip;
use super::oidc::{
    answer, authorize_url, browser, card_answer, finish, get_json, party, query_of, start, token,
    urlencode, REDIRECT, VERIFIER,
};
use super::suspension::handed_over_card;
use super::Kit;
use maina_reader::JpkiKey;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn codes_verifiers_and_challenges_are_good_once_and_only_for_their_owner() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (id, secret) = party(&kit, "Bank A", "auth", None, None).await;
    let started = start(&kit, &id, "openid").await;
    let (status, _) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The same challenge answered again: refused.
    let (status, replay) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{replay}");
    assert_eq!(replay["error"], json!("access_denied"));
    assert!(
        replay["error_description"]
            .as_str()
            .unwrap()
            .starts_with("challenge:"),
        "{replay}"
    );
    // Another browser cannot continue the sign-in.
    let (status, _) = get_json(
        &kit,
        &browser(&kit),
        &format!("/oidc/authorize/{}/status", started.id),
        "x=y",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let query = finish(&kit, &started).await;
    let code = query["code"].clone();
    let form = |verifier: &'static str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    let as_refs = |form: &[(&'static str, String)]| {
        form.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>()
    };
    let send = |form: Vec<(&'static str, String)>, basic: Option<(String, String)>| {
        let kit = &kit;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(
                kit,
                &pairs,
                basic.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            )
            .await
        }
    };
    // A wrong secret: invalid_client (401).
    let (status, body) = send(as_refs(&form(VERIFIER)), Some((id.clone(), "wrong".into()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], json!("invalid_client"));
    // A wrong verifier: invalid_grant naming code_verifier.
    let (status, body) = send(
        as_refs(&form(
            "another-verifier-that-is-long-enough-to-be-a-pkce-verifier",
        )),
        Some((id.clone(), secret.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_grant"));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("code_verifier"));
    // No verifier: invalid_request.
    let mut no_verifier = as_refs(&form(VERIFIER));
    no_verifier.retain(|(k, _)| *k != "code_verifier");
    let (_, body) = send(no_verifier, Some((id.clone(), secret.clone()))).await;
    assert_eq!(body["error"], json!("invalid_request"));
    // The right one, once; the code replayed: invalid_grant.
    let (status, body) = send(as_refs(&form(VERIFIER)), Some((id.clone(), secret.clone()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(as_refs(&form(VERIFIER)), Some((id.clone(), secret.clone()))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("invalid_grant"));
    // An unknown grant type.
    let (_, body) = send(
        vec![("grant_type", "password".to_owned())],
        Some((id.clone(), secret.clone())),
    )
    .await;
    assert_eq!(body["error"], json!("unsupported_grant_type"));
}

#[tokio::test]
async fn a_wrong_signature_a_suspended_card_and_a_foreign_redirect_are_refused() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (id, _) = party(&kit, "Bank A", "auth", None, None).await;

    // Signed data that is not the challenge.
    let started = start(&kit, &id, "openid").await;
    let (certificate, signature) = card_answer(
        chip(&kit, &card_id).await,
        JpkiKey::Authentication,
        "1234",
        b"something else",
    );
    let (status, body) = kit
        .call(
            "POST",
            "/oidc/card/answer",
            None,
            Some(json!({"challenge": started.challenge, "certificate": certificate, "signature": signature})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("signature:"),
        "{body}"
    );

    // A redirect URI not registered: our page, no redirect.
    let url = authorize_url(&kit, &id, "openid", "s2")
        .replace(&urlencode(REDIRECT), &urlencode("https://evil.example/cb"));
    let response = browser(&kit).get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("redirect_uri"), "{page}");
    // An unknown client: the same.
    let response = browser(&kit)
        .get(authorize_url(&kit, "rp-unknown", "openid", "s3"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(LOCATION).is_none());
    // No PKCE: back to the party with invalid_request and the state.
    let url = authorize_url(&kit, &id, "openid", "s4").replace("&code_challenge_method=S256", "");
    let response = browser(&kit).get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let query = query_of(response.headers()[LOCATION].to_str().unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(query["state"], "s4");
    assert!(query["error_description"].starts_with("code_challenge_method"));
    // An auth party asking for the facts: invalid_scope.
    let response = browser(&kit)
        .get(authorize_url(&kit, &id, "openid profile", "s5"))
        .send()
        .await
        .unwrap();
    let query = query_of(response.headers()[LOCATION].to_str().unwrap());
    assert_eq!(query["error"], "invalid_scope");

    // A suspended card: refused with the reason.
    let counter = kit.login("counter").await;
    let (status, done) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&counter),
            Some(json!({"card_id": card_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let started = start(&kit, &id, "openid").await;
    let (status, body) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("suspended"),
        "{body}"
    );
    let (_, status) = get_json(
        &kit,
        &browser(&kit),
        &format!("/oidc/authorize/{}/status", started.id),
        &started.cookie,
    )
    .await;
    assert_eq!(status["status"], json!("pending"));
}
