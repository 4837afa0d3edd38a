//! `maina pickup hand-over`: the PINs from standard input, the documents as flags;
//! a PIN breaking its rule or a missing document changes nothing; a card is handed
//! over once.

use super::{fails, initialised, maina, maina_in, ok, YAMADA};
use maina_card::{Card, Personalisation};
use maina_core::application::{ApplicationEvent, Channel};
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber, ResidentCode};
use maina_store::{ApplicationDetails, Keys, NewApplication, Store};
use std::path::Path;

pub(super) async fn store(data: &Path) -> Store {
    let keys = Keys::load(&data.join("keys").join("master.key")).unwrap();
    Store::open(&maina_store::sqlite_url(&data.join("maina.sqlite3")), &keys)
        .await
        .unwrap()
}

/// A card received for resident `code`'s application, ready for pickup, no PINs.
pub(super) async fn ready_card(data: &Path, code: &str) -> String {
    let store = store(data).await;
    let setup = Actor::administrator("setup", "test");
    let resident = store
        .resident_by_code(&code.parse::<ResidentCode>().unwrap())
        .await
        .unwrap();
    let form = ApplicationFormId::new("131016".parse().unwrap(), 4242).unwrap();
    store
        .put_notice(resident.resident_key, &form, &setup)
        .await
        .unwrap();
    let receipt = ReceiptNumber::new(4242).unwrap();
    let birth = resident.record.person.birth_date;
    let application = NewApplication {
        form_id: form,
        receipt,
        channel: Channel::Mail,
        details: ApplicationDetails {
            name: resident.record.person.name.to_string(),
            birth_date: birth,
            email: None,
            language: "en".into(),
            electronic_certificate: true,
            braille: false,
            receipt: receipt.as_digits(),
        },
        photo: None,
    };
    store
        .submit_application(&application, &setup, None)
        .await
        .unwrap();
    let id = store.application_by_receipt(&receipt).await.unwrap().id;
    for event in [
        ApplicationEvent::StartReview,
        ApplicationEvent::Approve,
        ApplicationEvent::Ship,
        ApplicationEvent::Receive,
        ApplicationEvent::NotifyPickup,
    ] {
        store
            .transition_application(id, &event, &setup, |_, _| None)
            .await
            .unwrap();
    }
    let card_id = "00C0FFEE00C0FFEE";
    let (chip, _) = Card::manufacture(
        card_id,
        &Personalisation {
            my_number: &resident.my_number.as_digits(),
            name: &resident.record.person.name.to_string(),
            address: resident.record.address.as_str(),
            birth_date: &birth.format("%Y%m%d").to_string(),
            sex: "1",
            resident_code: code,
            pins: None,
            with_signature: true,
        },
    )
    .unwrap();
    store
        .put_received_card(
            card_id,
            resident.resident_key,
            id,
            &chip.to_bytes().unwrap(),
            &setup,
        )
        .await
        .unwrap();
    store.close().await;
    card_id.into()
}

async fn chip(data: &Path, card_id: &str) -> Card {
    let store = store(data).await;
    let chip = Card::from_bytes(&store.card(card_id).await.unwrap().1).unwrap();
    store.close().await;
    chip
}

#[test]
fn a_card_is_handed_over_from_the_command_line_once() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let out = ok(maina(data, &args));
    let code = super::field(&out, "resident record code").replace(' ', "");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let card_id = runtime.block_on(ready_card(data, &code));
    let hand_over = [
        "pickup",
        "hand-over",
        card_id.as_str(),
        "--document",
        "passport",
    ];

    // A signature password without a digit: refused, the rule named, nothing set.
    let error = fails(maina_in(data, &hand_over, "1234\nABCDEF\n1234\n5678"));
    assert!(
        error.contains("sign_pin") && error.contains("at least one letter and one digit"),
        "{error}"
    );
    assert!(!runtime.block_on(chip(data, &card_id)).pins_set());
    // Too few PINs on standard input.
    let error = fails(maina_in(data, &hand_over, "1234\nABC123"));
    assert!(error.contains("residence PIN is missing"), "{error}");

    // One non-photo document is not enough: the PINs are set, the card stays.
    let one = [
        "pickup",
        "hand-over",
        &card_id,
        "--document",
        "pension-book",
    ];
    let error = fails(maina_in(data, &one, "1234\nABC123\n1234\n5678"));
    assert!(error.contains("documents"), "{error}");
    assert!(runtime.block_on(chip(data, &card_id)).pins_set());

    let out = ok(maina_in(data, &hand_over, "1234\nABC123\n1234\n5678"));
    assert_eq!(out.trim(), card_id);
    let error = fails(maina_in(data, &hand_over, "1234\nABC123\n1234\n5678"));
    assert!(error.contains("already been handed over"), "{error}");
    let shown = ok(maina(data, &["card", "show", &card_id]));
    assert!(shown.contains("auth") && shown.contains("sign"), "{shown}");
}
