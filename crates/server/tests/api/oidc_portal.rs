//! Signing in with the card (issue 14), continued: the provider's key rotation, the
//! resident portal's sign-in through the provider (its session cookie), and the
//! supervisor's relying-party page with an RS256 party.

use super::oidc::{answer, browser, sign_in, verified_claims, REDIRECT};
use super::suspension::handed_over_card;
use super::Kit;
use maina_reader::JpkiKey;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

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

/// The `name=value` of a response's Set-Cookie for `name`, with its attributes.
fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

#[tokio::test]
async fn the_portal_signs_in_through_the_provider_and_opens_a_resident_session() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let client = browser(&kit);
    let login = client
        .get(format!("{}/portal/login", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let to_provider = login.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        to_provider.contains("client_id=maina-portal"),
        "{to_provider}"
    );
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "{to_provider}"
    );
    let flow = set_cookie(&login, "maina_portal_login");
    assert!(
        flow.contains("HttpOnly") && flow.contains("SameSite=Lax"),
        "{flow}"
    );
    let flow = flow.split(';').next().unwrap().to_owned();

    let page = client.get(&to_provider).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = set_cookie(&page, "maina_oidc_")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let text = page.text().await.unwrap();
    let id = super::between(&text, "/oidc/authorize/", "/status").to_owned();
    let challenge = super::between(
        &text,
        "<code id=\"challenge\" class=\"challenge\">",
        "</code>",
    )
    .to_owned();
    let (status, body) = answer(&kit, &card_id, &challenge, JpkiKey::Authentication, "1234").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A first-party client: no consent page.
    let back = client
        .get(format!("{}/oidc/authorize/{id}/continue", kit.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = back.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{}/portal/callback?code=", kit.base)),
        "{callback}"
    );
    // Another browser (without the log-in cookie) cannot use the code.
    let stolen = client.get(&callback).send().await.unwrap();
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let done = client
        .get(&callback)
        .header(COOKIE, &flow)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], "/portal");
    let session = set_cookie(&done, "maina_resident");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && !session.contains("Secure"),
        "{session}"
    );
    let secret = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("maina_resident=")
        .to_owned();
    let resident = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let live = kit
        .state
        .service()
        .resident_session(&secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.resident_key, resident);
    assert_eq!(
        kit.store.signins_of(resident, 1).await.unwrap()[0].client_id,
        "maina-portal"
    );
    // The code is spent: the callback again fails.
    let again = client
        .get(&callback)
        .header(COOKIE, &flow)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    // Log-out ends the session.
    let out = client
        .post(format!("{}/portal/logout", kit.base))
        .header(COOKIE, format!("maina_resident={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(kit
        .state
        .service()
        .resident_session(&secret)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_supervisor_registers_a_party_on_the_console_and_an_rs256_party_gets_rs256() {
    let kit = Kit::start_with_pki().await;
    let cookie = super::security::console_cookie(&kit, "supervisor").await;
    let client = browser(&kit);
    let added = client
        .post(format!("{}/console/parties", kit.base))
        .header(COOKIE, &cookie)
        .form(&[
            ("name", "Old Bank"),
            ("redirect_uri", REDIRECT),
            ("kind", "auth"),
            ("sector", "old.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let page = added.text().await.unwrap();
    let client_id = super::between(&page, "<dd id=\"created-client-id\">", "</dd>").to_owned();
    assert!(page.contains("created-client-secret"), "{page}");
    let listed = client
        .get(format!("{}/console/parties", kit.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains(&client_id) && listed.contains("Old Bank"),
        "{listed}"
    );
    // A counter officer may not.
    let counter = super::security::console_cookie(&kit, "counter").await;
    let refused = client
        .get(format!("{}/console/parties", kit.base))
        .header(COOKIE, &counter)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // A party registered for RS256 gets its ID tokens signed so.
    let admin = maina_core::officer::Actor::administrator("setup", "test");
    let created = kit
        .state
        .service()
        .add_relying_party(
            &admin,
            &maina_service::oidc::NewParty {
                name: "Legacy".into(),
                redirect_uris: vec![REDIRECT.into()],
                id_token_alg: Some("RS256".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (card_id, _, _) = handed_over_card(&kit).await;
    let tokens = sign_in(
        &kit,
        &card_id,
        (&created.client_id, &created.client_secret),
        "openid",
    )
    .await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let claims = verified_claims(&kit, id_token, &created.client_id).await;
    assert_eq!(claims["aud"], json!(created.client_id));
}
