//! Signing in with the card (issue 14), hardened: a private_key_jwt assertion's
//! `jti` is good once; a replayed code revokes the access token issued from it;
//! `/oidc/authorize` is throttled per client address (on our page, never
//! redirected); the sign-in page's polling says why the card's answer was refused,
//! only to the browser that made the request and only for an answer the card's
//! key signed.

use super::counter::chip;
use super::oidc::{
    answer, authorize_url, browser, card_answer, finish, get_json, party, start, token, REDIRECT,
    VERIFIER,
};
use super::suspension::handed_over_card;
use super::Kit;
use maina_reader::JpkiKey;
use reqwest::header::{AUTHORIZATION, LOCATION};
use reqwest::StatusCode;
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A sign-in at `client_id` answered by the card's authentication key, up to the
/// code sent back to the party.
async fn code_for(kit: &Kit, card_id: &str, client_id: &str, scope: &str) -> String {
    let started = start(kit, client_id, scope).await;
    let (status, body) = answer(
        kit,
        card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    finish(kit, &started).await["code"].clone()
}

async fn userinfo(kit: &Kit, access_token: &str) -> (StatusCode, Value) {
    let response = browser(kit)
        .get(format!("{}/oidc/userinfo", kit.base))
        .header(AUTHORIZATION, format!("Bearer {access_token}"))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A party with its own ES256 key registered: (client id, secret, signing key).
async fn party_with_key(kit: &Kit) -> (String, String, jsonwebtoken::EncodingKey) {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let der = PKey::from_ec_key(EcKey::generate(&group).unwrap())
        .unwrap()
        .private_key_to_pkcs8()
        .unwrap();
    let signing = jsonwebtoken::EncodingKey::from_ec_der(&der);
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&signing, jsonwebtoken::Algorithm::ES256)
            .unwrap();
    jwk.common.key_id = Some("rp-key-1".into());
    let jwks = json!({"keys": [jwk]}).to_string();
    let (id, secret) = party(kit, "Keyed Bank", "auth", None, Some(jwks)).await;
    (id, secret, signing)
}

fn assertion(
    kit: &Kit,
    client_id: &str,
    key: &jsonwebtoken::EncodingKey,
    jti: Option<&str>,
    lifetime: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("rp-key-1".into());
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": format!("{}/oidc/token", kit.base),
        "exp": now + lifetime, "iat": now,
    });
    if let Some(jti) = jti {
        claims["jti"] = json!(jti);
    }
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

async fn exchange_with_assertion(kit: &Kit, code: &str, assertion: &str) -> (StatusCode, Value) {
    token(
        kit,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

fn names_client_assertion(body: &Value) -> bool {
    body["error"] == json!("invalid_client")
        && body["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("client_assertion:")
}

#[tokio::test]
async fn a_client_assertion_is_good_once_until_it_expires() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (id, _, key) = party_with_key(&kit).await;

    let once = assertion(&kit, &id, &key, Some("jti-1"), 60);
    let code = code_for(&kit, &card_id, &id, "openid").await;
    let (status, body) = exchange_with_assertion(&kit, &code, &once).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same assertion again, with a fresh code: a replay.
    let code = code_for(&kit, &card_id, &id, "openid").await;
    let (status, body) = exchange_with_assertion(&kit, &code, &once).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(names_client_assertion(&body), "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("jti"),
        "{body}"
    );
    // No jti at all, or one that claims to live for an hour: refused too.
    let (status, body) =
        exchange_with_assertion(&kit, &code, &assertion(&kit, &id, &key, None, 60)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(names_client_assertion(&body), "{body}");
    let (status, body) =
        exchange_with_assertion(&kit, &code, &assertion(&kit, &id, &key, Some("long"), 3600)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(names_client_assertion(&body), "{body}");
    // A fresh jti with the same code: accepted (the code was not spent by the
    // refusals).
    let (status, body) =
        exchange_with_assertion(&kit, &code, &assertion(&kit, &id, &key, Some("jti-2"), 60)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The prune worker keeps a jti until its assertion has expired.
    kit.state.service().prune_oidc().await.unwrap();
    let code = code_for(&kit, &card_id, &id, "openid").await;
    let (status, body) = exchange_with_assertion(&kit, &code, &once).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_replayed_code_revokes_the_access_token_issued_from_it() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (id, secret) = party(&kit, "Bank A", "auth", None, None).await;
    let code = code_for(&kit, &card_id, &id, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = token(&kit, &form, Some((&id, &secret))).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, _) = userinfo(&kit, &access).await;
    assert_eq!(status, StatusCode::OK);

    // The code again (an attacker who saw it, or a confused client): refused, and
    // the token from the first exchange is good no more.
    let (status, body) = token(&kit, &form, Some((&id, &secret))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_grant"));
    let (status, body) = userinfo(&kit, &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], json!("invalid_token"));
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("access_token:"),
        "{body}"
    );
    // Another sign-in's token is untouched.
    let code = code_for(&kit, &card_id, &id, "openid").await;
    let (status, tokens) = token(
        &kit,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, _) = userinfo(&kit, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_authorization_endpoint_is_throttled_per_address_on_its_own_page() {
    let kit = Kit::start_with_pki().await;
    let (id, _) = party(&kit, "Bank A", "auth", None, None).await;
    let client = browser(&kit);
    // An unknown client: our page (400) until the address's limit, then 429 with
    // temporarily_unavailable — never a redirect. (Within 121 requests even when
    // the minute's window turns over midway.)
    let mut throttled = None;
    for attempt in 0..125 {
        let response = client
            .get(authorize_url(&kit, "rp-unknown", "openid", "t"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().get(LOCATION).is_none());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some((attempt, response.text().await.unwrap()));
            break;
        }
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let (attempt, page) = throttled.expect("throttled");
    assert!(attempt >= 60, "throttled after {attempt}");
    assert!(
        page.contains("data-oauth-error=\"temporarily_unavailable\""),
        "{page}"
    );
    // A registered client from the same address: the same page, no redirect, and
    // no request row written.
    let response = client
        .get(authorize_url(&kit, &id, "openid", "t"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get(LOCATION).is_none());
}

#[tokio::test]
async fn the_sign_in_page_learns_why_the_card_was_refused_and_no_one_else_does() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (id, _) = party(&kit, "Bank A", "auth", None, None).await;
    let (facts_id, _) = party(&kit, "City Hall", "facts", None, None).await;
    let status_of = |started: &super::oidc::Started, cookie: Option<&str>| {
        let path = format!("/oidc/authorize/{}/status", started.id);
        let cookie = cookie.unwrap_or(started.cookie.as_str()).to_owned();
        let kit = &kit;
        async move { get_json(kit, &browser(kit), &path, &cookie).await }
    };

    // Nothing refused yet: no reason.
    let started = start(&kit, &facts_id, "openid profile").await;
    let (_, body) = status_of(&started, None).await;
    assert_eq!(body, json!({"status": "pending"}));
    // Data that is not the challenge, signed: nothing noted (anyone may post).
    let (certificate, signature) = card_answer(
        chip(&kit, &card_id).await,
        JpkiKey::Signature,
        "ABC123",
        b"not the challenge",
    );
    let (status, _) = kit
        .call(
            "POST",
            "/oidc/card/answer",
            None,
            Some(json!({"challenge": started.challenge, "certificate": certificate, "signature": signature})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = status_of(&started, None).await;
    assert_eq!(body, json!({"status": "pending"}));
    // The authentication key where the signature key is needed: wrong-key.
    let (status, _) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = status_of(&started, None).await;
    assert_eq!(body, json!({"status": "pending", "refusal": "wrong-key"}));
    // The right key: answered, and the reason is gone.
    let (status, _) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Signature,
        "ABC123",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = status_of(&started, None).await;
    assert_eq!(body, json!({"status": "answered"}));

    // A suspended card: the page that made the request learns it...
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
    let (status, _) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = status_of(&started, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "pending", "refusal": "suspended"}));
    // ...another browser learns nothing (not even that the request exists).
    let (status, body) = status_of(&started, Some("maina_oidc_x=y")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.get("refusal").is_none(), "{body}");
    assert!(!body.to_string().contains("suspended"), "{body}");

    // The page carries the reasons' texts in its language.
    let page = browser(&kit)
        .get(authorize_url(&kit, &id, "openid", "p"))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-reason=\"suspended\""), "{page}");
    assert!(page.contains("カードは一時停止中です"), "{page}");
}
