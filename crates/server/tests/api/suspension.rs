//! Loss and suspension through the API: the helpline identifies a caller and
//! suspends, but reads no record; the public report answers alike (body, status,
//! time) for unknown and wrong details and for a real suspension, behind the status
//! inquiry's throttle; OCSP says revoked (certificateHold) and the delta CRL lists
//! the hold within a second; the lift needs the card's own signature of a fresh
//! challenge, and makes authentication good again.

use super::counter::{chip, set_pins};
use super::{openssl_in, Kit};
use maina_reader::{JpkiKey, MyNumberCard, Transport};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The emulated chip as a reader transport, so the test speaks the same APDUs as
/// `maina card lift`.
struct Chip(maina_card::Card);

impl Transport for Chip {
    fn transmit(&mut self, apdu: &[u8]) -> maina_reader::Result<Vec<u8>> {
        Ok(self.0.transmit(apdu))
    }
}

/// The card's authentication key signs `challenge` after the authentication PIN.
fn card_signs(card: maina_card::Card, challenge: &[u8]) -> String {
    use base64::Engine as _;
    let mut card = MyNumberCard::new(Chip(card));
    card.select_jpki().unwrap();
    card.jpki_verify(JpkiKey::Authentication, "1234").unwrap();
    let signature = card
        .jpki_sign(
            JpkiKey::Authentication,
            &maina_pki::digest_info_sha256(&maina_pki::sha256(challenge)),
        )
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(signature)
}

/// A card made by the bureau, with its issue notice, handed over at the counter:
/// (card id, notice number, card number).
pub(crate) async fn handed_over_card(kit: &Kit) -> (String, String, String) {
    let registrar = kit.login("registrar").await;
    let supervisor = kit.login("supervisor").await;
    let counter = kit.login("counter").await;
    let (_, receipt) = kit
        .yamada_with_application(&registrar, 1313_3434_5656_7878, 111_222_333_444_557)
        .await;
    let (_, printed) =
        super::counter_paths::bureau_makes_and_notifies(kit, &supervisor, &counter, &receipt).await;
    let notice = printed[0].number.as_digits();
    let (status, found) = kit
        .call(
            "POST",
            "/api/v1/counter/find",
            Some(&counter),
            Some(json!({"number": notice})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let card_id = found["card_id"].as_str().unwrap().to_string();
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
    let number = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .card_number
        .unwrap();
    (card_id, notice, number)
}

/// The kit's helpline officer (role `helpline`, Chiyoda), logged in.
async fn add_helpline(kit: &Kit) -> String {
    kit.login("helpline").await
}

fn caller(number: &str, birth_date: &str) -> Value {
    json!({
        "name": "山田 花子", "birth_date": birth_date,
        "address": "東京都千代田区千代田１－１", "number": number,
    })
}

/// Posts a public report; answers status, body and how long it took.
async fn report(kit: &Kit, body: Value) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let (status, answer) = kit
        .call("POST", "/api/v1/lost-card", None, Some(body))
        .await;
    (status, answer, started.elapsed())
}

#[tokio::test]
async fn the_helpline_identifies_and_suspends_but_reads_no_record() {
    let kit = Kit::start_with_pki().await;
    let helpline = add_helpline(&kit).await;
    let (card_id, notice, number) = handed_over_card(&kit).await;
    let resident = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let code = kit
        .store
        .resident(resident)
        .await
        .unwrap()
        .resident_code
        .as_digits();

    // No record, no search, no card history, no lift for the helpline.
    for (method, path, body) in [
        ("GET", format!("/api/v1/residents/{code}"), None),
        ("GET", format!("/api/v1/residents/{code}/history"), None),
        (
            "POST",
            "/api/v1/residents/search".to_string(),
            Some(json!({"birth_date": "1990-04-01", "name": "山田"})),
        ),
        (
            "POST",
            "/api/v1/cards/lift/challenge".to_string(),
            Some(json!({"card_id": card_id})),
        ),
    ] {
        let (status, body) = kit.call(method, &path, Some(&helpline), body).await;
        assert!(
            matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{path}: {status} {body}"
        );
        assert!(!body.to_string().contains("1990-04-01"), "{body}");
    }

    // Identified by the card number (or the notice's): name, birth date, address.
    for by in [&number, &notice] {
        let (status, found) = kit
            .call(
                "POST",
                "/api/v1/helpline/identify",
                Some(&helpline),
                Some(caller(by, "1990-04-01")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["card_id"], json!(card_id));
        assert_eq!(found["birth_date"], json!("1990-04-01"));
        assert_eq!(found["card_state"], json!("active"));
        let keys: Vec<&String> = found.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["address", "birth_date", "card_id", "card_state", "name"]
        );
    }
    // A wrong birth date matches nothing.
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/helpline/identify",
            Some(&helpline),
            Some(caller(&number, "1990-04-02")),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("no_match"))
    );
    // The counter may not identify callers.
    let counter = kit.login("counter").await;
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/helpline/identify",
            Some(&counter),
            Some(caller(&number, "1990-04-01")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Unknown and malformed card ids: "no such card" / the field named.
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&helpline),
            Some(json!({"card_id": "0000000000000000"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&helpline),
            Some(json!({"card_id": card_id, "police_receipt": "R\u{7}"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], json!("police_receipt"));
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "active"
    );

    // Suspended, with the police report.
    let (status, done) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&helpline),
            Some(json!({"card_id": card_id, "police_receipt": "2026-123", "police_station": "丸の内警察署"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], json!("suspended"));
    let (status, again) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&helpline),
            Some(json!({"card_id": card_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["message"].as_str().unwrap().contains("suspended"),
        "{again}"
    );
    // The card's history shows the police report (sealed in the store).
    let events = kit.store.card_history(&card_id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.role.as_str()),
        ("suspended", "helpline")
    );
    assert!(last.details.as_deref().unwrap().contains("2026-123"));
}

#[tokio::test]
async fn the_public_report_answers_alike_and_holds_off_guessing() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _notice, number) = handed_over_card(&kit).await;
    let unknown = maina_core::CardNumber::from_serial(987_654)
        .unwrap()
        .as_digits();
    assert_ne!(unknown, number);

    let (status, first, took) = report(&kit, caller(&unknown, "1990-04-01")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["outcome"], json!("received"));
    let mut times = vec![took];
    // Wrong birth date: the same answer; nothing changed.
    let (status, body, took) = report(&kit, caller(&number, "1990-04-02")).await;
    assert_eq!((status, &body), (StatusCode::OK, &first));
    times.push(took);
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "active"
    );
    // Right details (the address typed in another width): the same answer, and the
    // card is suspended.
    let mut right = caller(&number, "1990-04-01");
    right["police_receipt"] = json!("R-77");
    let (status, body, took) = report(&kit, right).await;
    assert_eq!((status, &body), (StatusCode::OK, &first));
    times.push(took);
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "suspended"
    );
    // Each answer waited for the same floor; none took much longer.
    for took in &times {
        assert!(*took >= Duration::from_millis(400), "{times:?}");
        assert!(*took < Duration::from_millis(1500), "{times:?}");
    }
    // Again, the card already suspended: the same answer.
    let (status, body, took) = report(&kit, caller(&number, "1990-04-01")).await;
    assert_eq!((status, &body), (StatusCode::OK, &first));
    times.push(took);
    // The fourth try on the same number within the quarter hour: 429.
    let (status, body, _) = report(&kit, caller(&number, "1990-04-01")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], json!("too_many_attempts"));
    // Malformed input names its field at once.
    let (status, body, _) = report(&kit, caller("12345", "1990-04-01")).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("number"))
    );
    let (status, body, _) = report(&kit, caller(&unknown, "April")).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("birth_date"))
    );

    // The page, in Japanese.
    let page = kit
        .client
        .get(format!("{}/lost?lang=ja", kit.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("紛失"));
}

#[tokio::test]
async fn ocsp_and_the_delta_crl_say_hold_within_a_second_and_the_lift_needs_the_card() {
    let kit = Kit::start_with_pki().await;
    let (card_id, _, _) = handed_over_card(&kit).await;
    let counter = kit.login("counter").await;
    let auth = kit
        .store
        .card_certificates(&card_id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.ca == "auth")
        .unwrap();
    let (_, card_der) = kit.store.certificate(&auth.serial).await.unwrap();
    let get = |path: String| {
        let request = kit.client.get(format!("{}{path}", kit.base)).send();
        async move { request.await.unwrap().bytes().await.unwrap().to_vec() }
    };
    let work = tempfile::tempdir().unwrap();
    let d = work.path().to_path_buf();
    let pem = |der: &[u8]| maina_pki::pem::encode("CERTIFICATE", der);
    std::fs::write(d.join("card.pem"), pem(&card_der)).unwrap();
    std::fs::write(d.join("ca.pem"), pem(&get("/pki/auth-ca.crt".into()).await)).unwrap();
    std::fs::write(
        d.join("root.pem"),
        pem(&get("/pki/auth-root.crt".into()).await),
    )
    .unwrap();
    // The certificate names its delta CRL (freshestCRL).
    let (_, text) = openssl_in(&d, &["x509", "-in", "card.pem", "-noout", "-text"]);
    assert!(
        text.contains("Freshest CRL") && text.contains("auth-delta.crl"),
        "{text}"
    );
    let ocsp = || {
        let url = format!("{}/ocsp", kit.base);
        let dir = d.clone();
        tokio::task::spawn_blocking(move || {
            openssl_in(
                &dir,
                &[
                    "ocsp", "-url", &url, "-issuer", "ca.pem", "-CAfile", "root.pem", "-cert",
                    "card.pem",
                ],
            )
        })
    };
    let (ok, text) = ocsp().await.unwrap();
    assert!(ok && text.contains("card.pem: good"), "{text}");

    let (status, done) = kit
        .call(
            "POST",
            "/api/v1/cards/suspend",
            Some(&counter),
            Some(json!({"card_id": card_id})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let answered = Instant::now();
    let (ok, text) = ocsp().await.unwrap();
    assert!(
        ok && text.contains("card.pem: revoked") && text.contains("Reason: certificateHold"),
        "{text}"
    );
    assert!(answered.elapsed() < Duration::from_secs(1));
    // The delta CRL lists the hold within a second of the answer.
    let listed = loop {
        let der = get("/pki/auth-delta.crl".into()).await;
        std::fs::write(d.join("delta.crl"), &der).unwrap();
        let (_, text) = openssl_in(
            &d,
            &[
                "crl",
                "-inform",
                "DER",
                "-in",
                "delta.crl",
                "-noout",
                "-text",
            ],
        );
        if text.contains(&auth.serial) {
            break (answered.elapsed(), text);
        }
        assert!(
            answered.elapsed() < Duration::from_secs(3),
            "not listed: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(listed.0 < Duration::from_secs(1), "{:?}", listed.0);
    assert!(
        listed.1.contains("Delta CRL Indicator") && listed.1.contains("Certificate Hold"),
        "{}",
        listed.1
    );

    // The lift: a challenge, then the card's signature of it.
    let body = json!({"card_id": card_id});
    let (status, issued) = kit
        .call(
            "POST",
            "/api/v1/cards/lift/challenge",
            Some(&counter),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let challenge = issued["challenge"].as_str().unwrap().to_string();
    let challenge_bytes = hex::decode(&challenge).unwrap();
    // Another challenge signed: refused, nothing changed.
    let wrong = card_signs(chip(&kit, &card_id).await, &[1u8; 32]);
    let (status, refused) = kit
        .call(
            "POST",
            "/api/v1/cards/lift",
            Some(&counter),
            Some(json!({"card_id": card_id, "challenge": challenge, "signature": wrong})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], json!("signature"));
    assert_eq!(
        kit.store.card_record(&card_id).await.unwrap().status,
        "suspended"
    );
    // The card's own signature: active again.
    let signature = card_signs(chip(&kit, &card_id).await, &challenge_bytes);
    let lift = json!({"card_id": card_id, "challenge": challenge, "signature": signature});
    let (status, lifted) = kit
        .call(
            "POST",
            "/api/v1/cards/lift",
            Some(&counter),
            Some(lift.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{lifted}");
    assert_eq!(lifted["state"], json!("active"));
    let (ok, text) = ocsp().await.unwrap();
    assert!(ok && text.contains("card.pem: good"), "{text}");
    // The signature certificate stays revoked.
    let sign = kit
        .store
        .card_certificates(&card_id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.ca == "sign")
        .unwrap();
    assert_eq!(sign.reason.as_deref(), Some("lost-card"));
    // The challenge was used once: the same answer again is refused.
    let (status, again) = kit
        .call("POST", "/api/v1/cards/lift", Some(&counter), Some(lift))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    // The next delta CRL says removeFromCRL.
    let started = Instant::now();
    loop {
        let der = get("/pki/auth-delta.crl".into()).await;
        std::fs::write(d.join("delta.crl"), &der).unwrap();
        let (_, text) = openssl_in(
            &d,
            &[
                "crl",
                "-inform",
                "DER",
                "-in",
                "delta.crl",
                "-noout",
                "-text",
            ],
        );
        if text.contains("Remove From CRL") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
