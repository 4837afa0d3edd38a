//! The counter's pages and the PIN pad page, delivery home with the PINs held from
//! the counter, and a card made by the bureau's job found by its issue notice.

use super::counter::{card_at, chip, pins, ready_card, set_pins};
use super::Kit;
use maina_core::officer::{Actor, Role};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_pin_pad_page_pairs_by_code_and_sets_the_pins() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = ready_card(&kit, &registrar, "花子", "1990-04-01", 105, 1005).await;
    let (_, opened) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/cards/{card_id}/pinpad"),
            Some(&counter),
            None,
        )
        .await;
    let code = opened["code"].as_str().unwrap().to_string();
    let post = |form: Vec<(&'static str, String)>| {
        let request = kit
            .client
            .post(format!("{}/pinpad", kit.base))
            .form(&form)
            .send();
        async move {
            let response = request.await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let page = kit
        .client
        .get(format!("{}/pinpad", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (status, text) = post(vec![("code", "WRONG123".into())]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    let (status, text) = post(vec![("code", code.to_lowercase())]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("pinpad-form") && text.contains("署名用電子証明書の暗証番号"),
        "{text}"
    );
    let mut form = vec![("code", code.clone())];
    for (name, value) in [
        ("auth_pin", "1234"),
        ("sign_pin", "ABCDEF"),
        ("residence_pin", "1234"),
        ("support_pin", "1234"),
    ] {
        form.push((name, value.into()));
        form.push((
            Box::leak(format!("{name}_again").into_boxed_str()),
            value.into(),
        ));
    }
    let (status, text) = post(form.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text.contains("英字と数字をそれぞれ1文字以上") && !text.contains("ABCDEF"),
        "{text}"
    );
    assert!(!chip(&kit, &card_id).await.pins_set());
    for field in form.iter_mut() {
        if field.0.starts_with("sign_pin") {
            field.1 = "ABC123".into();
        }
    }
    let (status, text) = post(form).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("data-state=\"pins-set\""), "{text}");
    assert!(chip(&kit, &card_id).await.pins_set());
}

#[tokio::test]
async fn a_card_is_posted_home_with_the_pins_held_from_the_counter() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = card_at(&kit, &registrar, "花子", "1990-04-01", 106, 1006, false).await;
    let receipt = maina_core::ReceiptNumber::new(1006).unwrap().as_digits();
    let (status, opened) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/applications/{receipt}/pinpad"),
            Some(&counter),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let mut body = pins("ABC123");
    body["code"] = opened["code"].clone();
    let (status, answer) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body))
        .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"state": "pins-held"}))
    );
    assert!(!chip(&kit, &card_id).await.pins_set());
    let application = kit
        .store
        .application_by_receipt(&maina_core::ReceiptNumber::new(1006).unwrap())
        .await
        .unwrap();
    assert!(kit.store.held_pins(application.id).await.unwrap().is_some());

    let path = format!("/api/v1/counter/cards/{card_id}");
    let wrong_fee = json!({"documents": ["passport"], "express_fee_yen": 1800});
    let (status, body) = kit
        .call(
            "POST",
            &format!("{path}/post-home"),
            Some(&counter),
            Some(wrong_fee),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], json!("express_fee_yen"));
    let express = json!({"documents": ["passport"], "express_fee_yen": 2000});
    let (status, posted) = kit
        .call(
            "POST",
            &format!("{path}/post-home"),
            Some(&counter),
            Some(express),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    assert_eq!(posted["application_status"], json!("posted-to-resident"));
    assert!(posted["signature_serial"].is_string());
    // The PINs are on the chip, and no longer held.
    assert!(chip(&kit, &card_id).await.pins_set());
    assert!(kit.store.held_pins(application.id).await.unwrap().is_none());
    let (status, done) = kit
        .call("POST", &format!("{path}/delivered"), Some(&counter), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["application_status"], json!("handed-over"));
    assert_eq!(done["card_status"], json!("active"));
    let (status, _) = kit
        .call(
            "POST",
            &format!("{path}/hand-over"),
            Some(&counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_counter_page_opens_the_pin_pad_and_hands_over() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = ready_card(&kit, &registrar, "花子", "1990-04-01", 107, 1007).await;
    let cookie = format!("maina_session={counter}");
    let page = |method: &str, path: String, form: Vec<(&str, &str)>| {
        let url = format!("{}{path}", kit.base);
        let request = match method {
            "GET" => kit.client.get(url),
            _ => kit.client.post(url).form(&form),
        };
        let request = request.header("cookie", cookie.clone()).send();
        async move {
            let response = request.await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, text) = page(
        "GET",
        format!("/console/counter?card={card_id}&lang=ja"),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("山田 花子") && text.contains("暗証番号未設定"),
        "{text}"
    );
    let (status, text) = page(
        "POST",
        "/console/counter/pinpad".into(),
        vec![("card_id", &card_id)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let code = super::between(&text, "id=\"pinpad-code\" class=\"code\">", "<").to_string();
    let mut body = pins("ABC123");
    body["code"] = json!(code);
    let (status, _) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The officer's page says the PINs are set, never what they are.
    let (_, text) = page("GET", format!("/console/counter?card={card_id}"), vec![]).await;
    assert!(
        text.contains("data-set=\"true\"") && !text.contains("ABC123"),
        "{text}"
    );
    let form = vec![("card_id", card_id.as_str()), ("documents", "pension-book")];
    let (status, text) = page("POST", "/console/counter/hand-over".into(), form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("documents"), "{text}");
    let form = vec![
        ("card_id", card_id.as_str()),
        ("documents", "pension-book"),
        ("documents", "health-insurance-card"),
        ("surrendered", "notification-card"),
    ];
    let (status, text) = page("POST", "/console/counter/hand-over".into(), form).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("id=\"handed-over\""), "{text}");
    assert_eq!(kit.store.card(&card_id).await.unwrap().0.status, "active");
}

#[tokio::test]
async fn a_card_made_by_the_bureau_is_found_by_its_notice_and_handed_over() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let supervisor = kit.login("supervisor").await;
    let counter = kit.login("counter").await;
    let (_, receipt) = kit
        .yamada_with_application(&registrar, 1212_3434_5656_7879, 111_222_333_444_556)
        .await;
    let (made, printed) = bureau_makes_and_notifies(&kit, &supervisor, &counter, &receipt).await;
    assert_eq!(made, 1);
    let counter_actor = Actor {
        officer: "counter".into(),
        role: Role::Counter,
        municipality: Some("131016".parse().unwrap()),
        purpose: "pickup".into(),
    };
    let notice = kit
        .state
        .service
        .card_for_notice(&counter_actor, &printed[0].number)
        .await
        .unwrap();
    let card_id = notice.card_id;
    // The counter's page finds the card by the notice's number as printed.
    let page = kit
        .client
        .post(format!("{}/console/counter", kit.base))
        .form(&[("card", printed[0].number.as_digits())])
        .header("cookie", format!("maina_session={counter}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = page.text().await.unwrap();
    assert!(text.contains(&format!("data-card=\"{card_id}\"")), "{text}");
    // So does the API, with the number in the body.
    let find = json!({"number": printed[0].number.as_digits()});
    let (status, found) = kit
        .call("POST", "/api/v1/counter/find", Some(&counter), Some(find))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["card_id"], json!(card_id));
    set_pins(&kit, &counter, &card_id).await;
    let path = format!("/api/v1/counter/cards/{card_id}/hand-over");
    let (status, done) = kit
        .call(
            "POST",
            &path,
            Some(&counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["application_status"], json!("handed-over"));
    assert!(done["signature_serial"].is_string());
    // The certificates end no later than the card itself.
    let card = kit.store.counter_card(&card_id).await.unwrap().0;
    let expires = card.expires_on.unwrap();
    for certificate in kit.store.card_certificates(&card_id).await.unwrap() {
        let ends = chrono::DateTime::from_timestamp(certificate.not_after, 0).unwrap();
        assert!(
            ends.format("%Y-%m-%d").to_string() <= expires,
            "{ends} after {expires}"
        );
    }
}

/// Receives the municipality's shipment not yet received (its card numbers counted
/// as listed, through the API) and prints the issue notices of its cards: what the
/// municipality does before a card made by the bureau is at the counter.
pub(crate) async fn receive_and_notify(
    kit: &Kit,
    counter: &str,
) -> Vec<maina_service::pickup::issue::PrintedNotice> {
    use maina_service::cards::manufacture::japan_today;
    use maina_service::notice::{load_font, DEFAULT_FONT};
    use maina_service::pickup::issue::NoticeRun;
    let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let (_, list) = kit
        .call("GET", "/api/v1/shipments", Some(counter), None)
        .await;
    let shipment = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["received_at"].is_null())
        .unwrap();
    let id = shipment["id"].as_u64().unwrap();
    let counted = json!({"counted": shipment["card_numbers"].clone()});
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/shipments/{id}/receive"),
            Some(counter),
            Some(counted),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run = NoticeRun {
        municipality: "131016".parse().unwrap(),
        font: &font,
        booking_url: format!("{}/pickup/book", kit.base),
        out_dir: None,
        today: japan_today(),
    };
    let office = Actor::administrator("office", "notices");
    kit.state
        .service
        .issue_notices(&office, &run)
        .await
        .unwrap()
}

/// The supervisor approves the application `receipt` (through the API), the bureau
/// makes the approved cards, and the municipality receives them and prints their
/// notices: answers how many cards were made and the notices printed.
pub(crate) async fn bureau_makes_and_notifies(
    kit: &Kit,
    supervisor: &str,
    counter: &str,
    receipt: &maina_core::ReceiptNumber,
) -> (usize, Vec<maina_service::pickup::issue::PrintedNotice>) {
    use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
    use maina_service::notice::{load_font, DEFAULT_FONT};
    for event in ["start-review", "approve"] {
        let path = format!("/api/v1/applications/{}/events", receipt.as_digits());
        let (code, body) = kit
            .call(
                "POST",
                &path,
                Some(supervisor),
                Some(json!({"event": event})),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let options = ManufactureOptions {
        municipality: None,
        limit: 10,
        batch: 10,
        today: japan_today(),
    };
    let bureau = Actor::administrator("bureau", "manufacture");
    let report = manufacture(&kit.store, &font, &bureau, &options, |_, _| {})
        .await
        .unwrap();
    (report.made, receive_and_notify(kit, counter).await)
}
