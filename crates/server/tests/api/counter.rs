//! Pickup at the counter through the API: the PIN pad's PINs go to the chip, the
//! certificates are issued at the counter and verify to the root with OCSP good;
//! under-15s and declined pickups get no signature certificate; a proxy needs a
//! listed reason; a card is handed over once; another municipality's counter finds
//! nothing; a PIN breaking its rule is refused with the rule named and nothing is
//! written.

use super::{openssl_in, Kit, PASSWORD};
use maina_card::{jpki_ef, Card, Personalisation};
use maina_core::application::ApplicationEvent;
use maina_core::officer::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A resident registered in Chiyoda with `birth_date`, with an application (form
/// `serial`, receipt `receipt`) moved to ready-for-pickup and a card made for it
/// without PINs and received: answers the card id.
pub(crate) async fn ready_card(
    kit: &Kit,
    token: &str,
    given: &str,
    birth_date: &str,
    serial: u64,
    receipt: u64,
) -> String {
    card_at(kit, token, given, birth_date, serial, receipt, true).await
}

/// As [`ready_card`]; with `notified` false the application stays at-municipality.
pub(crate) async fn card_at(
    kit: &Kit,
    token: &str,
    given: &str,
    birth_date: &str,
    serial: u64,
    receipt: u64,
    notified: bool,
) -> String {
    let person = json!({
        "municipality": "131016", "reason": "move-in-from-abroad",
        "family_name": "山田", "given_name": given, "family_kana": "ヤマダ", "given_kana": "ハナコ",
        "birth_date": birth_date, "sex": "female", "address": "東京都千代田区千代田1-1"
    });
    let (status, body) = kit
        .call("POST", "/api/v1/residents", Some(token), Some(person))
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
    let receipt = maina_core::ReceiptNumber::new(receipt).unwrap();
    let birth = chrono::NaiveDate::parse_from_str(birth_date, "%Y-%m-%d").unwrap();
    let details = maina_store::ApplicationDetails {
        name: format!("山田 {given}"),
        birth_date: birth,
        email: None,
        language: "ja".into(),
        electronic_certificate: true,
        braille: false,
        receipt: receipt.as_digits(),
    };
    let application = maina_store::NewApplication {
        form_id: form,
        receipt,
        channel: maina_core::application::Channel::Mail,
        details,
        photo: None,
    };
    kit.store
        .submit_application(&application, &setup, None)
        .await
        .unwrap();
    let id = kit.store.application_by_receipt(&receipt).await.unwrap().id;
    let mut events = vec![
        ApplicationEvent::StartReview,
        ApplicationEvent::Approve,
        ApplicationEvent::Ship,
        ApplicationEvent::Receive,
    ];
    if notified {
        events.push(ApplicationEvent::NotifyPickup);
    }
    for event in events {
        kit.store
            .transition_application(id, &event, &setup, |_, _| None)
            .await
            .unwrap();
    }
    let card_id = format!("{:016X}", 0xC0DE_0000_0000_0000u64 + serial);
    let (chip, _) = Card::manufacture(
        &card_id,
        &Personalisation {
            my_number: &resident.my_number.as_digits(),
            name: &resident.record.person.name.to_string(),
            address: resident.record.address.as_str(),
            birth_date: &birth.format("%Y%m%d").to_string(),
            sex: "2",
            resident_code: &code.as_digits(),
            pins: None,
            with_signature: maina_core::card::signature_certificate_allowed(
                birth,
                chrono::Utc::now().date_naive(),
            ),
        },
    )
    .unwrap();
    kit.store
        .put_received_card(
            &card_id,
            resident.resident_key,
            id,
            &chip.to_bytes().unwrap(),
            &setup,
        )
        .await
        .unwrap();
    card_id
}

pub(crate) fn pins(sign: &str) -> Value {
    json!({
        "auth_pin": "1234", "auth_pin_again": "1234",
        "sign_pin": sign, "sign_pin_again": sign,
        "residence_pin": "1234", "residence_pin_again": "1234",
        "support_pin": "5678", "support_pin_again": "5678",
    })
}

/// Opens the PIN pad for `card_id` and sets the PINs; answers the code used.
pub(crate) async fn set_pins(kit: &Kit, token: &str, card_id: &str) -> String {
    let (status, opened) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/cards/{card_id}/pinpad"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let code = opened["code"].as_str().unwrap().to_string();
    let mut body = pins("abc123");
    body["code"] = json!(code);
    let (status, answer) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"state": "pins-set"}));
    code
}

pub(crate) async fn chip(kit: &Kit, card_id: &str) -> Card {
    Card::from_bytes(&kit.store.card(card_id).await.unwrap().1).unwrap()
}

#[tokio::test]
async fn a_card_is_handed_over_with_pins_from_the_pin_pad_and_its_certificates_verify() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = ready_card(&kit, &registrar, "花子", "1990-04-01", 101, 1001).await;
    let card_path = format!("/api/v1/counter/cards/{card_id}");

    let (status, card) = kit.call("GET", &card_path, Some(&counter), None).await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["pins_set"], json!(false));
    assert_eq!(card["birth_date"], json!("1990-04-01"));
    assert_eq!(card["application_status"], json!("ready-for-pickup"));

    // No hand-over before the PINs are set.
    let passport = json!({"documents": ["passport"]});
    let hand_over = format!("{card_path}/hand-over");
    let (status, body) = kit
        .call("POST", &hand_over, Some(&counter), Some(passport.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], json!("pins_not_set"));

    // The PIN pad pairs with the code and asks in the resident's language.
    let (status, opened) = kit
        .call("POST", &format!("{card_path}/pinpad"), Some(&counter), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let code = opened["code"].as_str().unwrap().to_string();
    let (status, paired) = kit
        .call(
            "POST",
            "/api/v1/pinpad/code",
            None,
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(
        (status, paired),
        (StatusCode::OK, json!({"language": "ja"}))
    );

    // A PIN breaking its rule is refused, the rule named in Japanese; nothing is
    // written to the chip.
    let version = kit.store.card(&card_id).await.unwrap().0.chip_version;
    for (sign, rule) in [("ABCDEF", "英字と数字"), ("AB1", "6〜16文字")] {
        let mut body = pins(sign);
        body["code"] = json!(code);
        let (status, refused) = kit
            .call("POST", "/api/v1/pinpad/pins", None, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["field"], json!("sign_pin"));
        assert!(
            refused["message"].as_str().unwrap().contains(rule),
            "{refused}"
        );
    }
    let mut body = pins("ABC123");
    body["code"] = json!(code);
    body["support_pin_again"] = json!("5679");
    let (status, refused) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], json!("support_pin_again"));
    assert_eq!(
        kit.store.card(&card_id).await.unwrap().0.chip_version,
        version
    );
    assert!(!chip(&kit, &card_id).await.pins_set());

    // Good PINs: set on the chip; the answer names none of them.
    let mut body = pins("abc123");
    body["code"] = json!(code);
    let (status, answer) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body.clone()))
        .await;
    assert_eq!(
        (status, &answer),
        (StatusCode::OK, &json!({"state": "pins-set"}))
    );
    assert!(chip(&kit, &card_id).await.pins_set());
    // The code is used up.
    let (status, _) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(body))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, card) = kit.call("GET", &card_path, Some(&counter), None).await;
    assert_eq!(card["pins_set"], json!(true));
    assert!(!card.to_string().contains("ABC123"));

    // A missing document or a proxy without a listed reason changes nothing.
    let (status, body) = kit
        .call(
            "POST",
            &hand_over,
            Some(&counter),
            Some(json!({"documents": ["health-insurance-card"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], json!("documents"));
    let proxy = json!({
        "documents": ["passport", "health-insurance-card"], "proxy_reason": "work",
        "proxy_documents": ["drivers-licence"], "proxy_reason_proof": true,
    });
    let (status, body) = kit
        .call("POST", &hand_over, Some(&counter), Some(proxy))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], json!("proxy_reason"));
    assert!(kit
        .store
        .card_certificates(&card_id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(kit.store.card(&card_id).await.unwrap().0.status, "received");

    // Handed over: both certificates, the card active, the application handed over.
    let (status, done) = kit
        .call("POST", &hand_over, Some(&counter), Some(passport.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["card_status"], json!("active"));
    assert_eq!(done["application_status"], json!("handed-over"));
    let serial = done["authentication_serial"].as_str().unwrap().to_string();
    assert!(done["signature_serial"].is_string());
    assert_eq!(
        kit.store.card_certificates(&card_id).await.unwrap().len(),
        2
    );
    let mut on_chip = chip(&kit, &card_id).await;
    assert!(on_chip.jpki_file(jpki_ef::AUTH_CERT).is_some());
    assert!(on_chip.jpki_file(jpki_ef::SIGN_CERT).is_some());
    // The PIN typed on the pad opens the chip.
    let select = [
        0, 0xA4, 4, 0x0C, 10, 0xD3, 0x92, 0xF0, 0, 0x26, 1, 0, 0, 0, 1,
    ];
    assert_eq!(on_chip.transmit(&select), [0x90, 0]);
    assert_eq!(on_chip.transmit(&[0, 0xA4, 2, 0x0C, 2, 0, 0x18]), [0x90, 0]);
    assert_eq!(
        on_chip.transmit(&[0, 0x20, 0, 0x80, 4, b'1', b'2', b'3', b'4']),
        [0x90, 0]
    );

    // Never twice.
    let (status, body) = kit
        .call("POST", &hand_over, Some(&counter), Some(passport))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        kit.store.card_certificates(&card_id).await.unwrap().len(),
        2
    );

    // The authentication certificate verifies to the root; OCSP says good.
    let (_, der) = kit.store.certificate(&serial).await.unwrap();
    let get = |path: &str| {
        let request = kit.client.get(format!("{}{path}", kit.base)).send();
        async move { request.await.unwrap().bytes().await.unwrap().to_vec() }
    };
    let work = tempfile::tempdir().unwrap();
    let d = work.path().to_path_buf();
    let pem = |der: &[u8]| maina_pki::pem::encode("CERTIFICATE", der);
    std::fs::write(d.join("card.pem"), pem(&der)).unwrap();
    std::fs::write(d.join("ca.pem"), pem(&get("/pki/auth-ca.crt").await)).unwrap();
    std::fs::write(d.join("root.pem"), pem(&get("/pki/auth-root.crt").await)).unwrap();
    let (ok, text) = openssl_in(
        &d,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "ca.pem",
            "card.pem",
        ],
    );
    assert!(ok, "{text}");
    let url = format!("{}/ocsp", kit.base);
    let (ok, text) = tokio::task::spawn_blocking(move || {
        openssl_in(
            &d,
            &[
                "ocsp", "-url", &url, "-issuer", "ca.pem", "-CAfile", "root.pem", "-cert",
                "card.pem",
            ],
        )
    })
    .await
    .unwrap();
    assert!(ok && text.contains("card.pem: good"), "{text}");

    // Every step is in the audit trail.
    let events = kit.store.audit_events(None).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for step in [
        "pickup.pinpad-open",
        "pickup.pins-set",
        "pickup.documents-checked",
        "pickup.certificates-issued",
        "pickup.handed-over",
    ] {
        assert!(actions.contains(&step), "{step} in {actions:?}");
    }
}

#[tokio::test]
async fn under_15s_and_declined_pickups_get_no_signature_certificate() {
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;

    let child = ready_card(&kit, &registrar, "小花", "2016-05-05", 102, 1002).await;
    set_pins(&kit, &counter, &child).await;
    let path = format!("/api/v1/counter/cards/{child}/hand-over");
    let alone = json!({"documents": ["health-insurance-card", "student-id"]});
    let (status, body) = kit.call("POST", &path, Some(&counter), Some(alone)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], json!("representative_documents"));
    let with_parent = json!({
        "documents": ["health-insurance-card", "student-id"],
        "representative_documents": ["drivers-licence"],
        "representative_authority_proof": true,
    });
    let (status, done) = kit
        .call("POST", &path, Some(&counter), Some(with_parent))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["authentication_serial"].is_string());
    assert!(done["signature_serial"].is_null());
    assert!(chip(&kit, &child)
        .await
        .jpki_file(jpki_ef::SIGN_CERT)
        .is_none());

    let adult = ready_card(&kit, &registrar, "葉子", "1985-01-02", 103, 1003).await;
    set_pins(&kit, &counter, &adult).await;
    let path = format!("/api/v1/counter/cards/{adult}/hand-over");
    let declined = json!({
        "documents": ["residence-card"], "decline_certificates": true,
        "surrendered": ["notification-card"],
    });
    let (status, done) = kit
        .call("POST", &path, Some(&counter), Some(declined))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["authentication_serial"].is_null());
    assert!(done["signature_serial"].is_null());
    assert_eq!(done["application_status"], json!("handed-over"));
    assert!(kit
        .store
        .card_certificates(&adult)
        .await
        .unwrap()
        .is_empty());
    let on_chip = chip(&kit, &adult).await;
    assert!(on_chip.jpki_file(jpki_ef::AUTH_CERT).is_none());
    assert!(on_chip.jpki_file(jpki_ef::SIGN_CERT).is_none());
}

#[tokio::test]
async fn another_municipalitys_counter_finds_no_card() {
    let kit = Kit::start_with_pki().await;
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
    let registrar = kit.login("registrar").await;
    let card_id = ready_card(&kit, &registrar, "花子", "1990-04-01", 104, 1004).await;
    let sapporo = kit.login("sapporo-counter").await;
    let path = format!("/api/v1/counter/cards/{card_id}");
    let (status, body) = kit.call("GET", &path, Some(&sapporo), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = kit
        .call("POST", &format!("{path}/pinpad"), Some(&sapporo), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = kit
        .call(
            "POST",
            &format!("{path}/hand-over"),
            Some(&sapporo),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A registrar is not the counter either; an unknown card is not found alike.
    let (status, _) = kit.call("GET", &path, Some(&registrar), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = kit
        .call(
            "GET",
            "/api/v1/counter/cards/00000000000000FF",
            Some(&kit.login("counter").await),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
