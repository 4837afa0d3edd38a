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
    let (card_id, _, _) = super::suspension::handed_over_card(&kit).await;
    let key = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
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
