//! The card's path as the resident's status inquiry and the municipality's API see
//! it: being made, shipped, received as listed, ready for pickup.

use super::*;
use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
use maina_service::notice::{load_font, DEFAULT_FONT};
use maina_service::pickup::issue::NoticeRun;

#[tokio::test]
async fn the_status_follows_the_card_from_the_bureau_to_the_counter() {
    let kit = Kit::start().await;
    let registrar = kit.login("registrar").await;
    let supervisor = kit.login("supervisor").await;
    let counter = kit.login("counter").await;
    // Yamada applies with an e-mail address: the issue notice reaches him by e-mail
    // too.
    let (form, receipt) = kit
        .yamada_applies(
            &registrar,
            1212_3434_5656_7878,
            111_222_333_444_555,
            Some("yamada@example.jp"),
        )
        .await;
    let status = || async {
        let body = json!({"number": form.to_string(), "birth_date": "1990-04-01"});
        let (code, body) = kit
            .call("POST", "/api/v1/application-status", None, Some(body))
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        (
            body["status"].as_str().unwrap().to_owned(),
            body["next"].as_str().unwrap().to_owned(),
        )
    };
    for event in ["start-review", "approve"] {
        let (code, body) = kit
            .call(
                "POST",
                &format!("/api/v1/applications/{}/events", receipt.as_digits()),
                Some(&supervisor),
                Some(json!({"event": event})),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    assert_eq!(status().await.0, "card-issuance-in-process");

    // The bureau's job.
    let font = load_font(std::path::Path::new(DEFAULT_FONT)).unwrap();
    let bureau = Actor::administrator("bureau", "manufacture");
    let options = ManufactureOptions {
        municipality: None,
        limit: 10,
        batch: 10,
        today: japan_today(),
    };
    let report = manufacture(&kit.store, &font, &bureau, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.made, 1);
    let (shipped, next) = status().await;
    assert_eq!(shipped, "shipped");
    assert!(next.contains("shipped to your city office"), "{next}");

    // The municipality's counter lists the shipment and receives it only as listed.
    let (code, list) = kit
        .call("GET", "/api/v1/shipments", Some(&counter), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{list}");
    let shipment = &list[0];
    let id = shipment["id"].as_u64().unwrap();
    let numbers = shipment["card_numbers"].clone();
    let path = format!("/api/v1/shipments/{id}/receive");
    let kit = &kit;
    let receive = |counted: Value| {
        let (path, token) = (path.clone(), counter.clone());
        async move {
            kit.call(
                "POST",
                &path,
                Some(&token),
                Some(json!({ "counted": counted })),
            )
            .await
        }
    };
    let (code, refused) = receive(json!([])).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "counted");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains(numbers[0].as_str().unwrap()));
    // A shipment number beyond any key is not found (it was a 500 before).
    let (code, _) = kit
        .call(
            "POST",
            "/api/v1/shipments/9223372036854775808/receive",
            Some(&counter),
            Some(json!({ "counted": [] })),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, bad) = receive(json!(["12345"])).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["field"], "counted[0]");
    assert_eq!(status().await.0, "shipped");
    // Another municipality's officer finds no such shipment.
    let sapporo = kit.login("sapporo").await;
    let (code, _) = kit
        .call(
            "POST",
            &format!("/api/v1/shipments/{id}/receive"),
            Some(&sapporo),
            Some(json!({ "counted": numbers.clone() })),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, received) = receive(numbers).await;
    assert_eq!(code, StatusCode::OK, "{received}");
    assert!(received["received_at"].is_string());
    assert_eq!(status().await.0, "at-municipality");

    // The issue notice makes it ready.
    let run = NoticeRun {
        municipality: "131016".parse().unwrap(),
        font: &font,
        booking_url: format!("{}/pickup/book", kit.base),
        out_dir: None,
        today: japan_today(),
    };
    let printed = kit
        .state
        .service
        .issue_notices(&Actor::administrator("office", "notices"), &run)
        .await
        .unwrap();
    assert_eq!(printed.len(), 1);
    assert_eq!(status().await.0, "ready-for-pickup");
    let mails = kit.store.due_mail(100).await.unwrap();
    let notice_mail = mails
        .iter()
        .find(|m| {
            m.mail.to == "yamada@example.jp" && m.mail.body.contains(&printed[0].number.to_string())
        })
        .expect("the issue notice by e-mail");
    assert!(
        notice_mail.mail.body.contains("/pickup/book"),
        "{}",
        notice_mail.mail.body
    );

    // Never collected: nothing after 10 days, one reminder at 91 days (once), the
    // card destroyed after a year, its keys wiped, the application closed.
    let office = Actor::administrator("pickup-expiry", "administration");
    let day = 86_400_000_000i64;
    let expire = |days: i64| {
        let (service, office) = (kit.state.service.clone(), office.clone());
        async move {
            service
                .expire_uncollected(&office, maina_store::now_micros() + days * day)
                .await
                .unwrap()
        }
    };
    let report = expire(10).await;
    assert_eq!((report.reminded, report.destroyed), (0, 0));
    let report = expire(91).await;
    assert_eq!((report.reminded, report.destroyed), (1, 0));
    let report = expire(91).await;
    assert_eq!((report.reminded, report.destroyed), (0, 0));
    let report = expire(366).await;
    assert_eq!((report.reminded, report.destroyed), (0, 1));
    let (destroyed, next) = status().await;
    assert_eq!(destroyed, "destroyed");
    assert!(next.contains("not collected"), "{next}");
    let card_id = &printed[0].card_id;
    let (card, chip) = kit.store.card(card_id).await.unwrap();
    assert_eq!(card.status, "destroyed");
    assert!(maina_card::Card::from_bytes(&chip)
        .unwrap()
        .public_keys()
        .is_err());
}
