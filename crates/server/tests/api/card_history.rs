//! A card's history through the API and the console: every state change with who,
//! when and why; the certificates with their status; the record page lists the
//! resident's cards; another municipality's officers and the helpline read nothing.

use super::counter::{ready_card, set_pins};
use super::Kit;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_cards_history_names_every_change_and_who_made_it() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = ready_card(&kit, &registrar, "花子", "1990-04-01", 301, 3001).await;
    set_pins(&kit, &counter, &card_id).await;
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/cards/{card_id}/hand-over"),
            Some(&counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let path = format!("/api/v1/cards/{card_id}/history");
    let (status, card) = kit.call("GET", &path, Some(&counter), None).await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["state"], json!("active"));
    let kinds: Vec<&str> = card["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["received", "certificates-issued", "activated"]);
    let handed = &card["events"][2];
    assert_eq!(
        (&handed["officer"], &handed["role"], &handed["municipality"]),
        (&json!("counter"), &json!("counter"), &json!("131016"))
    );
    assert_eq!(handed["label"], json!("Handed over, in use"));
    let statuses: Vec<(&str, &str)> = card["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["ca"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("auth", "good"), ("sign", "good")]);

    // Another municipality's officer, the helpline (no reading of cards) and a
    // malformed id all find nothing.
    let sapporo = kit.login("sapporo").await;
    let helpline = kit.login("helpline").await;
    for token in [&sapporo, &helpline] {
        let (status, body) = kit.call("GET", &path, Some(token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, _) = kit
        .call(
            "GET",
            "/api/v1/cards/not-a-card/history",
            Some(&counter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The console: the card page in Japanese, the record page's card section.
    let page = console_page(
        &kit,
        &registrar,
        &format!("/console/cards/{card_id}?lang=ja"),
    )
    .await;
    assert!(page.contains("利用中"), "{page}");
    assert!(page.contains("交付済み（利用中）"), "{page}");
    let code = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let resident = kit.store.resident(code).await.unwrap();
    let record = console_page(
        &kit,
        &registrar,
        &format!("/console/residents/{}", resident.resident_code.as_digits()),
    )
    .await;
    assert!(
        record.contains(&format!("/console/cards/{card_id}")),
        "{record}"
    );

    // Each read is in the audit trail.
    let (status, trail) = kit
        .call(
            "GET",
            "/api/v1/audit",
            Some(&kit.login("supervisor").await),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"card.history-read"), "{actions:?}");
    assert!(actions.contains(&"card.list-read"), "{actions:?}");
}

/// A console page's text, read with an officer's session.
async fn console_page(kit: &Kit, token: &str, path: &str) -> String {
    let response = kit
        .client
        .get(format!("{}{path}", kit.base))
        .header("cookie", format!("maina_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}
