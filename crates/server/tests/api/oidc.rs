//! Signing in with the card (issue 14) over HTTP: discovery and JWKS; the
//! authorization page's challenge answered by the emulated chip speaking the same
//! APDUs as `maina card login`; consent; the token endpoint with
//! client_secret_basic and private_key_jwt, PKCE; the ID token checked with the
//! provider's JWKS; pairwise `sub`; and the refusals: a replayed challenge, a wrong
//! signature, a suspended card, a redirect URI not registered (never redirected),
//! a wrong verifier, a replayed code, an auth-only party asking for facts.

use super::counter::chip;
use super::suspension::handed_over_card;
use super::Kit;
use base64::Engine as _;
use maina_reader::{JpkiKey, MyNumberCard, Transport};
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Chip(maina_card::Card);

impl Transport for Chip {
    fn transmit(&mut self, apdu: &[u8]) -> maina_reader::Result<Vec<u8>> {
        Ok(self.0.transmit(apdu))
    }
}

const VERIFIER: &str = "a-pkce-verifier-of-the-test-that-is-long-enough-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn challenge_of(verifier: &str) -> String {
    b64url(&maina_pki::sha256(verifier.as_bytes()))
}

/// A client that does not follow redirects and sends our origin (as a browser's
/// form post does).
fn browser(kit: &Kit) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, kit.base.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Registers a party; answers (client id, secret).
async fn party(
    kit: &Kit,
    name: &str,
    kind: &str,
    sector: Option<&str>,
    jwks: Option<String>,
) -> (String, String) {
    let admin = maina_core::officer::Actor::administrator("setup", "test");
    let created = kit
        .state
        .service()
        .add_relying_party(
            &admin,
            &maina_service::oidc::NewParty {
                name: name.into(),
                redirect_uris: vec![REDIRECT.into()],
                kind: Some(kind.into()),
                sector: sector.map(str::to_owned),
                jwks,
                id_token_alg: None,
            },
        )
        .await
        .unwrap();
    (created.client_id, created.client_secret)
}

/// The sign-in page of an authorization request: (request id, challenge, cookie).
struct Started {
    id: String,
    challenge: String,
    cookie: String,
}

fn authorize_url(kit: &Kit, client_id: &str, scope: &str, state: &str) -> String {
    format!(
        "{}/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state={state}&nonce=n-{state}&code_challenge={}&code_challenge_method=S256",
        kit.base,
        urlencode(REDIRECT),
        urlencode(scope),
        challenge_of(VERIFIER)
    )
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn start(kit: &Kit, client_id: &str, scope: &str) -> Started {
    let response = browser(kit)
        .get(authorize_url(kit, client_id, scope, "s1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(response.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let page = response.text().await.unwrap();
    let id = super::between(&page, "/oidc/authorize/", "/status").to_owned();
    let challenge = super::between(
        &page,
        "<code id=\"challenge\" class=\"challenge\">",
        "</code>",
    )
    .to_owned();
    assert!(page.contains("<svg"), "a QR code");
    Started {
        id,
        challenge,
        cookie,
    }
}

/// The chip answers a challenge with `key` after its PIN: (certificate, signature).
fn card_answer(card: maina_card::Card, key: JpkiKey, pin: &str, data: &[u8]) -> (String, String) {
    let mut card = MyNumberCard::new(Chip(card));
    card.select_jpki().unwrap();
    card.jpki_verify(key, pin).unwrap();
    let certificate = card.read_der_file(key.certificate_file()).unwrap();
    let signature = card
        .jpki_sign(
            key,
            &maina_pki::digest_info_sha256(&maina_pki::sha256(data)),
        )
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    (b64.encode(certificate), b64.encode(signature))
}

async fn answer(
    kit: &Kit,
    card_id: &str,
    challenge: &str,
    key: JpkiKey,
    pin: &str,
) -> (StatusCode, Value) {
    let canonical = challenge.replace('-', "");
    let (certificate, signature) =
        card_answer(chip(kit, card_id).await, key, pin, canonical.as_bytes());
    kit.call(
        "POST",
        "/oidc/card/answer",
        None,
        Some(json!({"challenge": challenge, "certificate": certificate, "signature": signature})),
    )
    .await
}

/// After the answer: continue (consenting when asked); answers the redirect's
/// query pairs.
async fn finish(kit: &Kit, started: &Started) -> std::collections::HashMap<String, String> {
    let client = browser(kit);
    let (_, status) = get_json(
        kit,
        &client,
        &format!("/oidc/authorize/{}/status", started.id),
        &started.cookie,
    )
    .await;
    assert_eq!(status["status"], json!("answered"));
    let response = client
        .get(format!(
            "{}/oidc/authorize/{}/continue",
            kit.base, started.id
        ))
        .header(COOKIE, &started.cookie)
        .send()
        .await
        .unwrap();
    let response = if response.status() == StatusCode::OK {
        let page = response.text().await.unwrap();
        assert!(
            page.contains("name=\"decision\" value=\"approve\""),
            "{page}"
        );
        client
            .post(format!(
                "{}/oidc/authorize/{}/consent",
                kit.base, started.id
            ))
            .header(COOKIE, &started.cookie)
            .form(&[("decision", "approve")])
            .send()
            .await
            .unwrap()
    } else {
        response
    };
    assert_eq!(response.status(), StatusCode::FOUND);
    query_of(response.headers()[LOCATION].to_str().unwrap())
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = reqwest::Url::parse(location).unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn get_json(
    kit: &Kit,
    client: &reqwest::Client,
    path: &str,
    cookie: &str,
) -> (StatusCode, Value) {
    let response = client
        .get(format!("{}{path}", kit.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn token(
    kit: &Kit,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (StatusCode, Value) {
    let mut request = browser(kit)
        .post(format!("{}/oidc/token", kit.base))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// The ID token, its signature checked with the provider's JWKS.
async fn verified_claims(kit: &Kit, id_token: &str, audience: &str) -> Value {
    let (_, jwks) = kit.call("GET", "/oidc/jwks", None, None).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[kit.base.as_str()]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}

/// A full sign-in at `client` by the card: answers the token response.
async fn sign_in(kit: &Kit, card_id: &str, client: (&str, &str), scope: &str) -> Value {
    let started = start(kit, client.0, scope).await;
    let (status, answered) = answer(
        kit,
        card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    let query = finish(kit, &started).await;
    assert_eq!(query["state"], "s1");
    assert_eq!(query["iss"], kit.base);
    let (status, tokens) = token(
        kit,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some(client),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

#[tokio::test]
async fn discovery_and_jwks_name_the_endpoints_and_both_key_types() {
    let kit = Kit::start_with_pki().await;
    let (status, meta) = kit
        .call("GET", "/.well-known/openid-configuration", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meta["issuer"], json!(kit.base));
    assert_eq!(
        meta["token_endpoint"],
        json!(format!("{}/oidc/token", kit.base))
    );
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["subject_types_supported"], json!(["pairwise"]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "private_key_jwt"])
    );
    let (status, jwks) = kit.call("GET", "/oidc/jwks", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{jwks}");
    assert!(
        kinds.contains(&"ES256") && kinds.contains(&"RS256"),
        "{jwks}"
    );
    assert!(
        jwks.to_string().find("\"d\"").is_none(),
        "no private part: {jwks}"
    );
    // Every endpoint is in the OpenAPI document.
    let (_, openapi) = kit.call("GET", "/api/v1/openapi.json", None, None).await;
    for path in [
        "/.well-known/openid-configuration",
        "/oidc/jwks",
        "/oidc/token",
        "/oidc/userinfo",
        "/oidc/authorize",
        "/oidc/card/answer",
        "/oidc/card/challenge",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} missing");
    }
}

#[tokio::test]
async fn a_card_signs_in_with_pkce_and_client_secret_basic_and_two_parties_get_different_subs() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let (a_id, a_secret) = party(&kit, "Bank A", "auth", Some("bank-a.example"), None).await;
    let (b_id, b_secret) = party(&kit, "Shop B", "auth", Some("shop-b.example"), None).await;

    let tokens = sign_in(&kit, &card_id, (&a_id, &a_secret), "openid").await;
    let claims = verified_claims(&kit, tokens["id_token"].as_str().unwrap(), &a_id).await;
    assert_eq!(claims["nonce"], json!("n-s1"));
    assert!(
        claims.get("name").is_none(),
        "an auth party gets no facts: {claims}"
    );
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let sub_a = claims["sub"].as_str().unwrap().to_owned();
    assert!(!sub_a.is_empty());
    // The My Number is in no token.
    assert!(!tokens.to_string().contains("1313"));

    // userinfo with the access token: the same sub, nothing else.
    let response = browser(&kit)
        .get(format!("{}/oidc/userinfo", kit.base))
        .header(
            AUTHORIZATION,
            format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info, json!({"sub": sub_a}));

    // Again at A (consent kept: no page): the same sub. At B: another one.
    let again = sign_in(&kit, &card_id, (&a_id, &a_secret), "openid").await;
    let claims = verified_claims(&kit, again["id_token"].as_str().unwrap(), &a_id).await;
    assert_eq!(claims["sub"], json!(sub_a));
    let at_b = sign_in(&kit, &card_id, (&b_id, &b_secret), "openid").await;
    let claims_b = verified_claims(&kit, at_b["id_token"].as_str().unwrap(), &b_id).await;
    assert_ne!(claims_b["sub"], json!(sub_a));

    // Every sign-in is recorded for the portal, newest first.
    let resident = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let signins = kit.store.signins_of(resident, 10).await.unwrap();
    assert_eq!(signins.len(), 3);
    assert_eq!(signins[0].client_id, b_id);
    assert_eq!(signins[0].claims, "sub");
    // A party switched off by the resident asks for consent again.
    assert!(kit.store.revoke_consent(resident, &a_id).await.unwrap());
    let started = start(&kit, &a_id, "openid").await;
    let (status, _) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = browser(&kit)
        .get(format!(
            "{}/oidc/authorize/{}/continue",
            kit.base, started.id
        ))
        .header(COOKIE, &started.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("decision"));
}

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

#[tokio::test]
async fn a_facts_party_gets_the_four_facts_after_consent_and_private_key_jwt_works() {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    // The party's own key pair: its public JWK registered.
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
    let (id, _) = party(&kit, "City Hall Online", "facts", None, Some(jwks)).await;

    let started = start(&kit, &id, "openid profile address").await;
    // The user-authentication key is not enough for the facts.
    let (status, body) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Authentication,
        "1234",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = answer(
        &kit,
        &card_id,
        &started.challenge,
        JpkiKey::Signature,
        "ABC123",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = browser(&kit)
        .get(format!(
            "{}/oidc/authorize/{}/continue",
            kit.base, started.id
        ))
        .header(COOKIE, &started.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "{csp}"
    );
    let text = page.text().await.unwrap();
    for claim in ["name", "address", "birthdate", "gender"] {
        assert!(
            text.contains(&format!("data-claim=\"{claim}\"")),
            "{claim}: {text}"
        );
    }
    assert!(text.contains("1990-04-01"), "{text}");
    let query = finish(&kit, &started).await;

    let now = chrono::Utc::now().timestamp();
    let assertion = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("rp-key-1".into());
        let claims = json!({
            "iss": id, "sub": id, "aud": format!("{}/oidc/token", kit.base),
            "exp": now + 60, "iat": now, "jti": "one",
        });
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let (status, tokens) = token(
        &kit,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = verified_claims(&kit, tokens["id_token"].as_str().unwrap(), &id).await;
    assert_eq!(claims["birthdate"], json!("1990-04-01"));
    assert!(
        claims["name"].as_str().unwrap().contains("山田"),
        "{claims}"
    );
    assert!(
        claims["address"]["formatted"]
            .as_str()
            .unwrap()
            .contains("千代田"),
        "{claims}"
    );
    assert_eq!(claims["acr"], json!("urn:maina:card:sign"));
    let resident = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let signins = kit.store.signins_of(resident, 10).await.unwrap();
    assert_eq!(signins[0].claims, "sub,name,address,birthdate,gender");
    // An assertion signed by another key: invalid_client.
    let (status, body) = token(
        &kit,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion.replace('.', ".x")),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_rotated_key_signs_and_the_old_one_stays_in_the_jwks() {
    let kit = Kit::start_with_pki().await;
    let service = kit.state.service();
    let before = service.oidc_keys().await.unwrap().signing_kids();
    let admin = maina_core::officer::Actor::administrator("setup", "test");
    let after = service.rotate_oidc_keys(&admin).await.unwrap();
    assert_eq!(after.len(), 2);
    let (_, jwks) = kit.call("GET", "/oidc/jwks", None, None).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 4, "{jwks}");
    for kid in before.iter().chain(&after) {
        assert!(kids.contains(&kid.as_str()), "{kid}");
    }
    assert_eq!(service.oidc_keys().await.unwrap().signing_kids().len(), 2);
    assert!(service
        .oidc_keys()
        .await
        .unwrap()
        .signing_kids()
        .iter()
        .all(|kid| after.contains(kid)));
    // Only the administrator rotates.
    let supervisor = maina_core::officer::Actor {
        role: maina_core::officer::Role::Supervisor,
        ..admin
    };
    assert!(service.rotate_oidc_keys(&supervisor).await.is_err());
}
