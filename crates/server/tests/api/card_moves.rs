//! The card and the registry through the API: a change of address writes the notes
//! panel and offers a new signature certificate; a move with the card
//! (転入届の特例) takes the card to the new municipality's officers and away from
//! the old one's; continued use at the new counter, the card present; bad input
//! names its field and changes nothing.

use super::{Kit, PASSWORD};
use maina_core::officer::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CARD: &str = "00000000000000D1";

async fn notes(kit: &Kit, token: &str) -> (StatusCode, Value) {
    kit.call(
        "POST",
        "/api/v1/cards/notes",
        Some(token),
        Some(json!({ "card_id": CARD })),
    )
    .await
}

#[tokio::test]
async fn the_card_follows_its_holder_to_the_new_municipality() {
    let kit = Kit::start().await;
    let setup = Actor::administrator("setup", "test");
    kit.store
        .add_officer(
            &"sapporo-counter".parse().unwrap(),
            Role::Counter,
            "011002".parse().unwrap(),
            PASSWORD,
            &setup,
        )
        .await
        .unwrap();
    let chiyoda = kit.login("registrar").await;
    let sapporo = kit.login("sapporo").await;
    let sapporo_counter = kit.login("sapporo-counter").await;
    let code = kit.register_yamada(&chiyoda).await;
    let resident = kit
        .store
        .resident_by_code(&code.parse().unwrap())
        .await
        .unwrap();
    let certificate = |serial: &str, ca: &str| maina_store::NewCertificate {
        serial: serial.into(),
        ca: ca.into(),
        not_before: 1_700_000_000,
        not_after: 4_000_000_000,
        der: vec![1],
    };
    kit.store
        .put_card(
            CARD,
            Some(resident.resident_key),
            b"chip",
            &[certificate("D1A1", "auth"), certificate("D1B1", "sign")],
            &setup,
        )
        .await
        .unwrap();

    let (status, empty) = notes(&kit, &chiyoda).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty["entries"], json!([]));
    assert_eq!(empty["signature_certificate"], json!("good"));
    assert_eq!(notes(&kit, &sapporo).await.0, StatusCode::NOT_FOUND);

    // A change of address: the notes panel, and a new signature certificate offered.
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/address"),
            Some(&chiyoda),
            Some(json!({"address": "東京都千代田区丸の内2-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, panel) = notes(&kit, &chiyoda).await;
    assert_eq!(panel["entries"][0]["kind"], json!("address"));
    assert_eq!(
        panel["entries"][0]["text"],
        json!("東京都千代田区丸の内2-2")
    );
    assert_eq!(panel["signature_certificate"], json!("offered"));
    assert_eq!(panel["full"], json!(false));

    // Bad input names the field and changes nothing.
    let today = chrono::Local::now().date_naive();
    for (body, field) in [
        (
            json!({"card_id": CARD, "destination": "011002", "planned_date": (today + chrono::Days::new(40)).to_string()}),
            "planned_date",
        ),
        (
            json!({"card_id": CARD, "destination": "131016", "planned_date": today.to_string()}),
            "destination",
        ),
        (
            json!({"card_id": CARD, "destination": "011002", "planned_date": "tomorrow"}),
            "planned_date",
        ),
    ] {
        let (status, refused) = kit
            .call("POST", "/api/v1/cards/move-out", Some(&chiyoda), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["field"], json!(field), "{refused}");
    }
    assert_eq!(kit.store.card_move(CARD).await.unwrap(), None);

    // The move-out at Chiyoda, with the card.
    let (status, out) = kit
        .call(
            "POST",
            "/api/v1/cards/move-out",
            Some(&chiyoda),
            Some(json!({"card_id": CARD, "destination": "011002", "planned_date": today.to_string()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["state"], json!("moved-out"));
    assert_eq!(
        out["due_on"],
        json!((today + chrono::Days::new(30)).to_string())
    );
    // Sapporo cannot read the card yet; only Sapporo may take the move-in.
    assert_eq!(notes(&kit, &sapporo).await.0, StatusCode::NOT_FOUND);
    let move_in = json!({"card_id": CARD, "address": "北海道札幌市中央区北1条西2丁目"});
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/cards/move-in",
            Some(&chiyoda),
            Some(move_in.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, moved) = kit
        .call(
            "POST",
            "/api/v1/cards/move-in",
            Some(&sapporo),
            Some(move_in.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["state"], json!("moved-in"));
    assert_eq!(
        moved["due_on"],
        json!((today + chrono::Days::new(90)).to_string())
    );

    // The card followed its holder: Sapporo's officers find it, Chiyoda's do not.
    let (status, panel) = notes(&kit, &sapporo).await;
    assert_eq!(status, StatusCode::OK, "{panel}");
    assert_eq!(panel["entries"].as_array().unwrap().len(), 2);
    assert_eq!(
        panel["entries"][1]["text"],
        json!("北海道札幌市中央区北1条西2丁目")
    );
    assert_eq!(notes(&kit, &chiyoda).await.0, StatusCode::NOT_FOUND);
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/cards/move-in",
            Some(&sapporo),
            Some(move_in),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the move-in is done");

    // Continued use at Sapporo's counter, the card present.
    let confirm = |number: &str| json!({"card_id": CARD, "card_number": number});
    let (status, refused) = kit
        .call(
            "POST",
            "/api/v1/cards/continued-use",
            Some(&sapporo_counter),
            Some(confirm("0000000000000000")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], json!("card_number"));
    let (status, done) = kit
        .call(
            "POST",
            "/api/v1/cards/continued-use",
            Some(&sapporo_counter),
            Some(confirm(CARD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], json!("continued"));
    let (status, again) = kit
        .call(
            "POST",
            "/api/v1/cards/continued-use",
            Some(&sapporo_counter),
            Some(confirm(CARD)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let kinds: Vec<String> = kit
        .store
        .card_history(CARD)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.kind)
        .collect();
    for kind in ["moved-out", "moved-in", "continued-use", "notes-written"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}
