//! The resident's My Number in the portal (issue 14 item 6): shown only after a
//! further step signed with the card's signature key, for the resident of the
//! portal session only, audited, and listed in their record of who used my data.

use super::counter::set_pins;
use super::counter_paths::bureau_makes_and_notifies;
use super::oidc::{answer, browser};
use super::suspension::handed_over_card;
use super::Kit;
use maina_reader::JpkiKey;
use reqwest::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

/// Another resident (a second Hanako Yamada) with a card handed over: its id
/// (`first`: the card already handed over).
async fn another_residents_card(kit: &Kit, first: &str) -> String {
    let registrar = kit.login("registrar").await;
    let supervisor = kit.login("supervisor").await;
    let counter = kit.login("counter").await;
    let (_, receipt) = kit
        .yamada_with_application(&registrar, 1414_3434_5656_7878, 111_222_333_444_558)
        .await;
    let (_, printed) = bureau_makes_and_notifies(kit, &supervisor, &counter, &receipt).await;
    let mut card_id = None;
    for notice in &printed {
        let (status, found) = kit
            .call(
                "POST",
                "/api/v1/counter/find",
                Some(&counter),
                Some(json!({"number": notice.number.as_digits()})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let id = found["card_id"].as_str().unwrap().to_string();
        if id != first {
            card_id = Some(id);
        }
    }
    let card_id = card_id.expect("the second resident's card");
    set_pins(kit, &counter, &card_id).await;
    let (status, done) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/cards/{card_id}/hand-over"),
            Some(&counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    card_id
}

/// The `name=value` of a response's Set-Cookie for `name`.
fn cookie_pair(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A sign-in page reached through a redirect: (request id, challenge, its cookie,
/// the page).
async fn provider_page(client: &reqwest::Client, url: &str) -> (String, String, String, String) {
    let page = client.get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = cookie_pair(&page, "maina_oidc_");
    let text = page.text().await.unwrap();
    let id = super::between(&text, "/oidc/authorize/", "/status").to_owned();
    let challenge = super::between(
        &text,
        "<code id=\"challenge\" class=\"challenge\">",
        "</code>",
    )
    .to_owned();
    (id, challenge, cookie, text)
}

/// The card's user-authentication key signs the resident in to the portal: the
/// session cookie (`maina_resident=...`).
async fn portal_session(kit: &Kit, card_id: &str) -> String {
    let client = browser(kit);
    let login = client
        .get(format!("{}/portal/login", kit.base))
        .send()
        .await
        .unwrap();
    let flow = cookie_pair(&login, "maina_portal_login");
    let to_provider = login.headers()[LOCATION].to_str().unwrap().to_owned();
    let (id, challenge, cookie, _) = provider_page(&client, &to_provider).await;
    let (status, body) = answer(kit, card_id, &challenge, JpkiKey::Authentication, "1234").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = client
        .get(format!("{}/oidc/authorize/{id}/continue", kit.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let callback = back.headers()[LOCATION].to_str().unwrap().to_owned();
    let done = client
        .get(&callback)
        .header(COOKIE, &flow)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    cookie_pair(&done, "maina_resident")
}

/// A started reveal: the callback URL the provider sends back to, once `signer`
/// answered with `key`, and the reveal cookie; or the answer's refusal.
struct Reveal {
    callback: Option<String>,
    cookie: String,
    answer_status: StatusCode,
    page: String,
}

async fn reveal_signed_by(kit: &Kit, session: &str, signer: &str, key: JpkiKey) -> Reveal {
    let client = browser(kit);
    let started = client
        .post(format!("{}/portal/reveal", kit.base))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_pair(&started, "maina_portal_reveal");
    let to_provider = started.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        to_provider.contains("client_id=maina-portal-reveal"),
        "{to_provider}"
    );
    let (id, challenge, page_cookie, page) = provider_page(&client, &to_provider).await;
    let pin = match key {
        JpkiKey::Signature => "ABC123",
        _ => "1234",
    };
    let (answer_status, _) = answer(kit, signer, &challenge, key, pin).await;
    let callback = if answer_status == StatusCode::OK {
        let back = client
            .get(format!("{}/oidc/authorize/{id}/continue", kit.base))
            .header(COOKIE, &page_cookie)
            .send()
            .await
            .unwrap();
        // A first-party client: no consent page.
        assert_eq!(back.status(), StatusCode::FOUND);
        Some(back.headers()[LOCATION].to_str().unwrap().to_owned())
    } else {
        None
    };
    Reveal {
        callback,
        cookie,
        answer_status,
        page,
    }
}

async fn open_callback(kit: &Kit, url: &str, cookies: &str) -> (StatusCode, String, String) {
    let response = browser(kit)
        .get(url)
        .header(COOKIE, cookies)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let cache = response
        .headers()
        .get(CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.text().await.unwrap())
}

#[tokio::test]
async fn the_my_number_is_shown_only_after_the_holders_signature_key_signed_and_is_audited() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let other_card = another_residents_card(&kit, &card_id).await;
    let resident = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let number =
        maina_proto::ClearMyNumber::reveal(&kit.store.resident(resident).await.unwrap().my_number)
            .as_digits();
    let session = portal_session(&kit, &card_id).await;

    // Signed in with the authentication key: the portal shows the number masked,
    // and a button for the signature step.
    let portal = browser(&kit)
        .get(format!("{}/portal", kit.base))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!portal.contains(&number), "no number without the step");
    assert!(portal.contains("id=\"reveal-my-number\""), "{portal}");
    // Without a session, no reveal starts.
    let anonymous = browser(&kit)
        .post(format!("{}/portal/reveal", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()[LOCATION], "/portal/login");

    // The provider asks for the signature key; the authentication key is refused.
    let by_auth = reveal_signed_by(&kit, &session, &card_id, JpkiKey::Authentication).await;
    assert!(by_auth.page.contains("--facts"), "{}", by_auth.page);
    assert_eq!(by_auth.answer_status, StatusCode::FORBIDDEN);
    assert!(by_auth.callback.is_none());
    // A made-up code at the callback: refused, no number.
    let (status, _, page) = open_callback(
        &kit,
        &format!(
            "{}/portal/reveal/callback?code=made-up&state={}",
            kit.base,
            by_auth
                .cookie
                .split('=')
                .nth(1)
                .unwrap()
                .split('.')
                .next()
                .unwrap()
        ),
        &format!("{session}; {}", by_auth.cookie),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(!page.contains(&number));

    // Another resident's signature card: the provider takes the answer, the portal
    // refuses it for this session, shows nothing and records the attempt.
    let by_other = reveal_signed_by(&kit, &session, &other_card, JpkiKey::Signature).await;
    assert_eq!(by_other.answer_status, StatusCode::OK);
    let callback = by_other.callback.unwrap();
    let (status, _, page) =
        open_callback(&kit, &callback, &format!("{session}; {}", by_other.cookie)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(!page.contains(&number), "{page}");
    assert!(!page.contains("my-number-clear"), "{page}");
    let trail = kit.store.audit_events(Some(resident)).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "portal.reveal-refused"),
        "{trail:?}"
    );
    assert!(!trail.iter().any(|e| e.action == "portal.reveal-my-number"));

    // The resident's own signature key: the number, once, in this response only.
    let by_self = reveal_signed_by(&kit, &session, &card_id, JpkiKey::Signature).await;
    let callback = by_self.callback.unwrap();
    assert!(!callback.contains(&number));
    // The reveal cookie alone (another browser's session) does not do.
    let (status, _, _) = open_callback(&kit, &callback, &by_self.cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookies = format!("{session}; {}", by_self.cookie);
    let (status, cache, page) = open_callback(&kit, &callback, &cookies).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(cache.contains("no-store"), "{cache}");
    let shown = super::between(
        &page,
        "<span id=\"my-number-clear\" class=\"number\">",
        "</span>",
    );
    assert_eq!(shown, number);
    assert!(
        page.contains("<details id=\"my-number-revealed\">"),
        "folded away: {page}"
    );
    // Audited before it left, and listed in the resident's record of access.
    let trail = kit.store.audit_events(Some(resident)).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "portal.reveal-my-number"),
        "{trail:?}"
    );
    let record = kit
        .state
        .service()
        .portal_access_record(resident, 1, "en")
        .await
        .unwrap();
    let entry = record
        .entries
        .iter()
        .find(|e| e.action == "portal.reveal-my-number")
        .expect("the reveal is in the record of access");
    assert_eq!(entry.kind, "resident");
    assert!(entry.label.contains("My Number"), "{entry:?}");
    assert!(entry.verified, "{entry:?}");
    assert!(record
        .entries
        .iter()
        .any(|e| e.action == "portal.reveal-refused"));
    // The same callback again (a reload): the code is spent, nothing shown.
    let (status, _, page) = open_callback(&kit, &callback, &cookies).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(!page.contains(&number));
    // The next view of the portal: masked again.
    let portal = browser(&kit)
        .get(format!("{}/portal", kit.base))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!portal.contains(&number), "masked again on the next view");
}
