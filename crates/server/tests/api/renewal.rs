//! Reissue and renewal through the API: a lost card's reissue is refused without
//! its fee ("fee missing", nothing changed), recorded with it, and the old card is
//! abolished when the new card (made through the issuance path) is handed over; a
//! renewal is free and opens three months before the card's end (refused earlier
//! with the day it opens); the console's form says the same.

use super::counter::{card_at, ready_card, set_pins};
use super::Kit;
use chrono::Datelike;
use maina_core::application::ApplicationEvent;
use maina_core::card::{card_expiry, StayLimit};
use maina_core::officer::Actor;
use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
use maina_service::notice::{load_font, DEFAULT_FONT};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn hand_over(kit: &Kit, counter: &str, card_id: &str) {
    set_pins(kit, counter, card_id).await;
    let path = format!("/api/v1/counter/cards/{card_id}/hand-over");
    let (status, done) = kit
        .call(
            "POST",
            &path,
            Some(counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

async fn reissue(kit: &Kit, token: &str, body: Value) -> (StatusCode, Value) {
    kit.call("POST", "/api/v1/cards/reissue", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn a_lost_card_is_reissued_for_its_fee_and_abolished_at_the_new_hand_over() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let old = ready_card(&kit, &registrar, "花子", "1990-04-01", 301, 3001).await;
    hand_over(&kit, &counter, &old).await;
    let old_certificates = kit.store.card_certificates(&old).await.unwrap();
    assert!(old_certificates.iter().all(|c| c.revoked_at.is_none()));

    // Bad input names the field and changes nothing.
    let lost = json!({"card_id": old, "reason": "lost"});
    for (body, code, field) in [
        (lost.clone(), "fee_missing", "fee_paid_yen"),
        (
            json!({"card_id": old, "reason": "lost", "fee_paid_yen": 800}),
            "fee_missing",
            "fee_paid_yen",
        ),
        (
            json!({"card_id": old, "reason": "stolen", "fee_paid_yen": 1000}),
            "invalid_field",
            "reason",
        ),
        (
            json!({"card_id": old, "reason": "lost", "fee_paid_yen": 1000, "police_receipt_number": "R-1"}),
            "invalid_field",
            "police_station",
        ),
        (
            json!({"card_id": old, "reason": "notes-full", "fee_paid_yen": 1000}),
            "fee_not_due",
            "fee_paid_yen",
        ),
    ] {
        let (status, refused) = reissue(&kit, &counter, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(
            (refused["code"].as_str(), refused["field"].as_str()),
            (Some(code), Some(field)),
            "{refused}"
        );
    }
    let (_, refused) = reissue(&kit, &counter, lost.clone()).await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("fee missing: ¥1000 is due"),
        "{refused}"
    );
    assert_eq!(kit.store.card_record(&old).await.unwrap().status, "active");
    assert!(kit
        .store
        .replacements_of_card(&old)
        .await
        .unwrap()
        .is_empty());
    // Officers without the counter's work, or of another municipality, find no card.
    for token in [&registrar, &kit.login("sapporo").await] {
        let body = json!({"card_id": old, "reason": "lost", "fee_paid_yen": 1000});
        let (status, _) = reissue(&kit, token, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // The console's form refuses the same way.
    let page = kit
        .client
        .post(format!("{}/console/cards/reissue", kit.base))
        .form(&[
            ("card_id", old.as_str()),
            ("reason", "lost"),
            ("with_certificates", "yes"),
        ])
        .header("cookie", format!("maina_session={counter}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("fee_paid_yen: fee missing"));

    // With the fee and the police report: the new card's application, the old
    // card suspended (it was still active) until the new one is handed over.
    let body = json!({
        "card_id": old.to_lowercase(), "reason": "lost", "fee_paid_yen": 1000,
        "police_receipt_number": "R-2026-0042", "police_station": "丸の内警察署",
    });
    let (status, done) = reissue(&kit, &counter, body).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["status"], json!("received"));
    assert_eq!(
        (
            done["card_fee_yen"].as_u64(),
            done["certificates_fee_yen"].as_u64()
        ),
        (Some(800), Some(200))
    );
    assert_eq!(done["old_card_state"], json!("suspended"));
    let (status, twice) = reissue(
        &kit,
        &counter,
        json!({"card_id": old, "reason": "lost", "fee_paid_yen": 1000}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");

    // The new card follows the issuance path to the counter.
    let application = done["application_id"].as_u64().unwrap();
    let setup = Actor::administrator("setup", "test");
    for event in [
        ApplicationEvent::StartReview,
        ApplicationEvent::Approve,
        ApplicationEvent::Ship,
        ApplicationEvent::Receive,
        ApplicationEvent::NotifyPickup,
    ] {
        kit.store
            .transition_application(application, &event, &setup, |_, _| None)
            .await
            .unwrap();
    }
    let holder = kit
        .store
        .card_record(&old)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let resident = kit.store.resident(holder).await.unwrap();
    let new = "C0DE00000000BEEF";
    let (chip, _) = maina_card::Card::manufacture(
        new,
        &maina_card::Personalisation {
            my_number: &resident.my_number.as_digits(),
            name: &resident.record.person.name.to_string(),
            address: resident.record.address.as_str(),
            birth_date: "19900401",
            sex: "2",
            resident_code: &resident.resident_code.as_digits(),
            pins: None,
            with_signature: true,
        },
    )
    .unwrap();
    kit.store
        .put_received_card(new, holder, application, &chip.to_bytes().unwrap(), &setup)
        .await
        .unwrap();
    hand_over(&kit, &counter, new).await;
    assert_eq!(kit.store.card_record(new).await.unwrap().status, "active");
    assert_eq!(kit.store.card_record(&old).await.unwrap().status, "revoked");
    // The lost card's certificates stay revoked, the hold made permanent.
    for certificate in kit.store.card_certificates(&old).await.unwrap() {
        assert!(certificate.revoked_at.is_some());
        assert_eq!(certificate.reason.as_deref(), Some("lost-card"));
    }
    // An abolished card cannot be replaced again.
    let (status, refused) = reissue(
        &kit,
        &counter,
        json!({"card_id": old, "reason": "damaged", "fee_paid_yen": 1000}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], json!("wrong_state"));
    // Not handed over yet: a card waiting at the counter is not replaced either.
    let waiting = card_at(&kit, &registrar, "次郎", "1985-06-15", 302, 3002, true).await;
    let (status, _) = reissue(
        &kit,
        &counter,
        json!({"card_id": waiting, "reason": "damaged", "fee_paid_yen": 1000}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// A card made by the bureau for a resident born on `birth`, issued on `issued`,
/// received, notified and handed over: answers the card id.
async fn bureau_card(
    kit: &Kit,
    birth: chrono::NaiveDate,
    issued: chrono::NaiveDate,
    serial: u64,
) -> String {
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let person = json!({
        "municipality": "131016", "reason": "move-in-from-abroad",
        "family_name": "更新", "given_name": "太郎", "family_kana": "コウシン", "given_kana": "タロウ",
        "birth_date": birth.format("%Y-%m-%d").to_string(), "sex": "male", "address": "東京都千代田区千代田1-1"
    });
    let (status, body) = kit
        .call("POST", "/api/v1/residents", Some(&registrar), Some(person))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code: maina_core::ResidentCode = body["resident_code"].as_str().unwrap().parse().unwrap();
    let resident = kit.store.resident_by_code(&code).await.unwrap();
    let form = maina_core::ApplicationFormId::new("131016".parse().unwrap(), serial).unwrap();
    let setup = Actor::administrator("setup", "test");
    kit.store
        .put_notice(resident.resident_key, &form, &setup)
        .await
        .unwrap();
    let receipt =
        maina_core::ReceiptNumber::new(serial % maina_core::ReceiptNumber::RANDOM_SPACE).unwrap();
    let application = maina_store::NewApplication {
        form_id: form,
        receipt,
        channel: maina_core::application::Channel::Mail,
        details: maina_store::ApplicationDetails {
            name: "更新 太郎".into(),
            birth_date: birth,
            email: None,
            language: "ja".into(),
            electronic_certificate: true,
            braille: false,
            receipt: receipt.as_digits(),
        },
        photo: None,
    };
    let id = kit
        .store
        .submit_application(&application, &setup, None)
        .await
        .unwrap()
        .id;
    for event in [ApplicationEvent::StartReview, ApplicationEvent::Approve] {
        kit.store
            .transition_application(id, &event, &setup, |_, _| None)
            .await
            .unwrap();
    }
    let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let options = ManufactureOptions {
        municipality: None,
        limit: 10,
        batch: 10,
        today: issued,
    };
    let bureau = Actor::administrator("bureau", "manufacture");
    let report = manufacture(&kit.store, &font, &bureau, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.made, 1, "{report:?}");
    let printed = super::counter_paths::receive_and_notify(kit, &counter).await;
    let mut card_id = None;
    for notice in &printed {
        if kit.store.card_record(&notice.card_id).await.unwrap().status == "received" {
            card_id = Some(notice.card_id.clone());
        }
    }
    let card_id = card_id.unwrap();
    hand_over(kit, &counter, &card_id).await;
    card_id
}

#[tokio::test]
async fn a_renewal_is_free_and_opens_three_months_before_the_end() {
    let kit = Kit::start_with_pki().await;
    let counter = kit.login("counter").await;
    let today = japan_today();
    // A birthday six weeks from now, and the day of issue whose card ends on it.
    let target = (45..50)
        .map(|days| today + chrono::Duration::days(days))
        .find(|day| (day.month(), day.day()) != (2, 29))
        .unwrap();
    let birth = chrono::NaiveDate::from_ymd_opt(1970, target.month(), target.day()).unwrap();
    let issued = (1..800)
        .map(|days| today - chrono::Duration::days(3650 - 400 + days))
        .find(|issued| {
            card_expiry(birth, *issued, StayLimit::Unlimited)
                .is_some_and(|end| end > today && end <= today + chrono::Duration::days(80))
        })
        .unwrap();
    let ending = bureau_card(&kit, birth, issued, 4040_5050_6060_7070).await;
    let (status, window) = kit
        .call(
            "POST",
            "/api/v1/cards/renewal-window",
            Some(&counter),
            Some(json!({"card_id": ending})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{window}");
    assert_eq!(window["open"], json!(true), "{window}");
    // A fee is refused: the renewal is free.
    let (status, refused) = reissue(
        &kit,
        &counter,
        json!({"card_id": ending, "reason": "expiry", "fee_paid_yen": 1000}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("fee_not_due")),
        "{refused}"
    );
    let (status, done) = reissue(
        &kit,
        &counter,
        json!({"card_id": ending, "reason": "expiry"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        (
            done["card_fee_yen"].as_u64(),
            done["certificates_fee_yen"].as_u64()
        ),
        (Some(0), Some(0))
    );
    // The old card stays in use until the new one is handed over.
    assert_eq!(done["old_card_state"], json!("active"));

    // A card made today ends in years: too early, and the refusal names the day.
    let fresh = bureau_card(
        &kit,
        chrono::NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
        today,
        4040_5050_6060_8080,
    )
    .await;
    let (_, window) = kit
        .call(
            "POST",
            "/api/v1/cards/renewal-window",
            Some(&counter),
            Some(json!({"card_id": fresh})),
        )
        .await;
    assert_eq!(window["open"], json!(false), "{window}");
    let opens = window["opens_on"].as_str().unwrap().to_owned();
    let (status, refused) = reissue(
        &kit,
        &counter,
        json!({"card_id": fresh, "reason": "expiry"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], json!("too_early"));
    assert!(
        refused["message"].as_str().unwrap().contains(&opens),
        "{refused}"
    );
    assert!(kit
        .store
        .replacements_of_card(&fresh)
        .await
        .unwrap()
        .is_empty());
}
