//! The resident portal (issue 14): the record of who used my data shows an
//! officer's read within seconds (role, municipality, purpose — never the name),
//! with its chain position verified; the CSV has the same list and defuses
//! formulas; an access e-mail is queued once for a resident who asked, in their
//! language; the resident suspends their own card, and no one else's.

use super::{Kit, PASSWORD};
use maina_core::officer::{Actor, Role};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// Registers Hanako Yamada; a named registrar logs in. (record code, row key,
/// the registrar's token).
async fn hanako_and_a_named_registrar(kit: &Kit) -> (String, u64, String) {
    let setup = Actor::administrator("setup", "test");
    kit.store
        .add_officer(
            &"suzuki-ichiro".parse().unwrap(),
            Role::Registrar,
            "131016".parse().unwrap(),
            PASSWORD,
            &setup,
        )
        .await
        .unwrap();
    let token = kit.login("suzuki-ichiro").await;
    let code = kit.register_yamada(&token).await;
    let key = kit
        .store
        .resident_by_code(&code.parse().unwrap())
        .await
        .unwrap()
        .resident_key;
    (code, key, token)
}

/// The registrar reads the record, stating `purpose`.
async fn officer_reads(kit: &Kit, token: &str, code: &str, purpose: &str) {
    let response = kit
        .client
        .get(format!("{}/api/v1/residents/{code}", kit.base))
        .bearer_auth(token)
        .header("x-purpose", purpose)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A card handed over to its resident: the card's id and the holder's row key.
async fn card_and_holder(kit: &Kit) -> (String, u64) {
    let (card_id, _, _) = super::suspension::handed_over_card(kit).await;
    let key = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    (card_id, key)
}

#[tokio::test]
async fn an_officers_read_is_in_the_record_and_the_csv_without_the_officers_name() {
    let kit = Kit::start().await;
    let (code, key, token) = hanako_and_a_named_registrar(&kit).await;
    let service = &kit.state.service;
    officer_reads(&kit, &token, &code, "=HYPERLINK(\"http://evil.example\")").await;

    let record = service.portal_access_record(key, 1, "en").await.unwrap();
    let newest = &record.entries[0];
    assert_eq!(newest.kind, "officer");
    assert_eq!(newest.action, "read");
    assert_eq!(newest.label, "Your record was read");
    assert_eq!(
        (newest.role.as_str(), newest.municipality.as_str()),
        ("registrar", "131016")
    );
    assert!(newest.verified, "{newest:?}");
    assert!(record.chain_problem.is_none() && record.chain_verified_upto >= newest.seq.unwrap());
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains("suzuki"), "{json}");
    // The resident's own reads (this page) are never listed.
    let again = service.portal_access_record(key, 1, "ja").await.unwrap();
    assert_eq!(again.total, record.total);
    assert_eq!(again.entries[0].label, "記録が閲覧されました");

    let csv = service.portal_access_csv(key, "en").await.unwrap();
    let text = String::from_utf8(csv).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "When");
    assert_eq!(header[9], "Verified");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as u64, record.total);
    assert_eq!(&rows[0][3], "read");
    assert_eq!(&rows[0][6], "'=HYPERLINK(\"http://evil.example\")");
    assert_eq!(&rows[0][8], newest.seq.unwrap().to_string());
    assert_eq!(&rows[0][9], "yes");
    assert!(!text.contains("suzuki"));
}

#[tokio::test]
async fn an_access_is_emailed_once_in_the_residents_language_and_never_after_off() {
    let kit = Kit::start().await;
    let (code, key, token) = hanako_and_a_named_registrar(&kit).await;
    let service = &kit.state.service;
    let refused = service
        .portal_set_notify(key, Some("not an address"), "ja")
        .await
        .unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("email"));
    // Let the worker start its cursor, then switch on.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    service
        .portal_set_notify(key, Some("hanako@example.jp"), "ja")
        .await
        .unwrap();
    let before = kit.store.pending_mail().await.unwrap();
    officer_reads(&kit, &token, &code, "tax check").await;
    // The resident's own reads are not accesses.
    service.portal_record(key, "ja").await.unwrap();

    let started = Instant::now();
    while kit.store.pending_mail().await.unwrap() == before {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no e-mail within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(kit.store.pending_mail().await.unwrap(), before + 1);
    let mails = kit.store.due_mail(100).await.unwrap();
    let mail = &mails
        .iter()
        .rfind(|m| m.mail.to == "hanako@example.jp")
        .unwrap()
        .mail;
    assert_eq!(mail.subject, "あなたの住民記録が利用されました");
    assert!(mail.body.contains("記録が閲覧されました"), "{}", mail.body);
    assert!(mail.body.contains("住民記録担当") && mail.body.contains("131016"));
    assert!(mail.body.contains("tax check"));
    assert!(!mail.body.contains("suzuki"));

    service.portal_set_notify(key, None, "ja").await.unwrap();
    officer_reads(&kit, &token, &code, "tax check").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(kit.store.pending_mail().await.unwrap(), before + 1);
}

#[tokio::test]
async fn the_resident_suspends_their_own_card_and_no_one_elses() {
    let kit = Kit::start_with_pki().await;
    let (card_id, key) = card_and_holder(&kit).await;
    let service = &kit.state.service;
    let record = service.portal_record(key, "en").await.unwrap();
    assert_eq!(record.cards[0].card.state, "active");
    assert_eq!(
        record.resident.my_number_masked.len(),
        "**** **** 0000".len()
    );
    assert!(record.resident.my_number_masked.starts_with("**** **** "));
    assert!(!record.applications.is_empty());
    assert_eq!(record.addresses[0].address, "東京都千代田区千代田1-1");

    // Someone else's key (another resident) does not find the card.
    let registrar = kit.login("registrar").await;
    let other: maina_core::ResidentCode = kit.register_yamada(&registrar).await.parse().unwrap();
    let other = kit
        .store
        .resident_by_code(&other)
        .await
        .unwrap()
        .resident_key;
    let refused = service
        .portal_suspend_card(other, &card_id)
        .await
        .unwrap_err();
    assert_eq!(refused.code, "not_found");
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "active"
    );

    let done = service.portal_suspend_card(key, &card_id).await.unwrap();
    assert_eq!(done.state, "suspended");
    let again = service
        .portal_suspend_card(key, &card_id)
        .await
        .unwrap_err();
    assert_eq!(again.code, "not_allowed");
    let record = service.portal_access_record(key, 1, "en").await.unwrap();
    let suspension = &record.entries[0];
    assert_eq!(
        (suspension.kind.as_str(), suspension.action.as_str()),
        ("card", "card.suspend")
    );
    assert!(suspension.verified);
}

/// A client that keeps the resident's session cookie and does not follow
/// redirects (posts carry our origin, as a browser's do).
fn resident_browser(kit: &Kit, secret: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, kit.base.parse().unwrap());
    headers.insert(
        reqwest::header::COOKIE,
        format!("maina_resident={secret}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_pages_need_a_resident_session_and_show_the_record_the_access_and_the_csv() {
    let kit = Kit::start_with_pki().await;
    let (card_id, key) = card_and_holder(&kit).await;
    let code = kit
        .store
        .resident(key)
        .await
        .unwrap()
        .resident_code
        .as_digits();

    // Without a session: every portal page sends the browser to sign in.
    let anonymous = resident_browser(&kit, "");
    for path in ["/portal", "/portal/access", "/portal/access.csv"] {
        let response = anonymous
            .get(format!("{}{path}", kit.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/portal/login");
    }
    let response = anonymous
        .post(format!("{}/portal/suspend", kit.base))
        .form(&[("card_id", card_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "active"
    );

    let secret = kit.state.service.open_resident_session(key).await.unwrap();
    let browser = resident_browser(&kit, &secret);
    let (_, _, officer) = hanako_and_a_named_registrar(&kit).await;
    officer_reads(&kit, &officer, &code, "pension check").await;

    let page = browser
        .get(format!("{}/portal?lang=en", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<dd id=\"address\">東京都千代田区千代田1-1</dd>"),
        "{html}"
    );
    assert!(html.contains("id=\"my-number\">**** **** "));
    assert!(html.contains(&format!("data-card-id=\"{card_id}\" data-state=\"active\"")));
    assert!(html.contains("data-action=\"read\""));
    assert!(html.contains("data-verified=\"true\""));
    assert!(!html.contains("data-verified=\"false\""));
    assert!(html.contains("pension check"));
    assert!(!html.contains("suzuki"));
    // A form post without our origin is refused (the CSRF layer covers the portal).
    let foreign = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/portal/suspend", kit.base))
        .header("origin", "https://evil.example")
        .header("cookie", format!("maina_resident={secret}"))
        .form(&[("card_id", card_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "active"
    );

    let csv = browser
        .get(format!("{}/portal/access.csv?lang=ja", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("\u{feff}日時,"), "{text}");
    assert!(
        text.contains("記録が閲覧されました,read,registrar,131016,pension check,"),
        "{text}"
    );

    let second = browser
        .get(format!("{}/portal/access?page=2&lang=en", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert!(second.text().await.unwrap().contains("Page 2 /"));

    // E-mails on, from the page; a bad address is refused naming the field.
    let bad = browser
        .post(format!("{}/portal/notify?lang=en", kit.base))
        .form(&[("switch", "on"), ("email", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let on = browser
        .post(format!("{}/portal/notify?lang=en", kit.base))
        .form(&[("switch", "on"), ("email", "hanako@example.jp")])
        .send()
        .await
        .unwrap();
    assert_eq!(on.status(), StatusCode::OK);
    assert!(on
        .text()
        .await
        .unwrap()
        .contains("E-mails are switched on."));
    assert!(
        kit.store
            .notify_preference(key)
            .await
            .unwrap()
            .notify_access
    );

    // A relying party never consented to: "not found", nothing changes.
    let revoke = browser
        .post(format!("{}/portal/consents/revoke", kit.base))
        .form(&[("client_id", "no-such-party")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND);

    // The lost card, suspended from the page.
    let suspended = browser
        .post(format!("{}/portal/suspend?lang=en", kit.base))
        .form(&[("card_id", card_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(suspended.status(), StatusCode::OK);
    let html = suspended.text().await.unwrap();
    assert!(html.contains("Your card is suspended."));
    assert!(html.contains("data-action=\"card.suspend\""));
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "suspended"
    );
}
