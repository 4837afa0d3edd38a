//! The counter's work on the chip (issue 13): the PIN pad's reset mode through the
//! API, then the service's use cases driving a chip in the test as the counter's
//! reader would (the `Card` value is the link): a PIN reset from the pad, an unblock,
//! the facts rewritten after the residence PIN with the issuer's signature, the
//! certificates renewed on the same chip; refusals change nothing.

use super::counter::{chip, ready_card, set_pins};
use super::Kit;
use maina_card::issuer::{digest_matches, parse_signed_facts, CardKey};
use maina_card::{jpki_ef, tlv, Card, AID_JPKI, AID_SUPPORT};
use maina_core::officer::{Actor, Role};
use maina_pki::PublicKey;
use maina_service::card_life::NewPin;
use reqwest::StatusCode;
use serde_json::{json, Value};
use zeroize::Zeroizing;

fn counter_actor() -> Actor {
    Actor {
        officer: "counter".into(),
        role: Role::Counter,
        municipality: Some("131016".parse().unwrap()),
        purpose: "test".into(),
    }
}

/// An active card of a new resident, made with its issuer key (as the bureau's job
/// makes them), PINs auth 1234, sign ABC123, residence 1234, support 5678.
async fn active_card(kit: &Kit, given: &str, serial: u64, with_key: bool) -> String {
    let registrar = kit.login("registrar").await;
    let counter = kit.login("counter").await;
    let card_id = ready_card(kit, &registrar, given, "1990-04-01", serial, serial + 9000).await;
    if with_key {
        let (record, stored) = kit.store.card(&card_id).await.unwrap();
        let mut card = Card::from_bytes(&stored).unwrap();
        card.install_issuer_key(&CardKey::new(*kit.store.card_issuer_key(&card_id)))
            .unwrap();
        kit.store
            .save_chip(&card_id, &card.to_bytes().unwrap(), record.chip_version)
            .await
            .unwrap();
    }
    set_pins(kit, &counter, &card_id).await;
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/counter/cards/{card_id}/hand-over"),
            Some(&counter),
            Some(json!({"documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    card_id
}

fn sw(card: &mut Card, apdu: &[u8]) -> u16 {
    card.respond(apdu).status.0
}

fn select(card: &mut Card, aid: &[u8], fid: u16) {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, 10];
    apdu.extend_from_slice(aid);
    assert_eq!(sw(card, &apdu), 0x9000);
    let [hi, lo] = fid.to_be_bytes();
    assert_eq!(sw(card, &[0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]), 0x9000);
}

fn verify(card: &mut Card, pin: &str) -> u16 {
    let mut apdu = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    apdu.extend_from_slice(pin.as_bytes());
    sw(card, &apdu)
}

fn read(card: &mut Card, fid: u16) -> Vec<u8> {
    let [hi, lo] = fid.to_be_bytes();
    assert_eq!(sw(card, &[0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]), 0x9000);
    // 256 bytes a READ BINARY, until a shorter answer.
    let mut out = Vec::new();
    loop {
        let [hi, lo] = (out.len() as u16).to_be_bytes();
        let response = card.respond(&[0x00, 0xB0, hi, lo, 0x00]);
        assert_eq!(response.status.0, 0x9000);
        let short = response.data.len() < 256;
        out.extend(response.data);
        if short {
            return out;
        }
    }
}

async fn events(kit: &Kit, card_id: &str) -> Vec<(String, String)> {
    kit.store
        .card_history(card_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.reason))
        .collect()
}

#[tokio::test]
async fn a_pin_is_reset_from_the_pin_pad_through_the_issuers_command_and_the_old_one_fails() {
    let kit = Kit::start_with_pki().await;
    let counter = kit.login("counter").await;
    let card_id = active_card(&kit, "花子", 301, true).await;
    let open = |body: Value| {
        kit.call(
            "POST",
            "/api/v1/cards/pin-reset",
            Some(&counter),
            Some(body),
        )
    };

    // Refusals name the field; nothing opens.
    let (status, body) =
        open(json!({"card_id": card_id, "pin": "auth", "documents": ["health-insurance-card"]}))
            .await;
    assert_eq!(
        (status, &body["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("documents")),
        "{body}"
    );
    let (status, body) =
        open(json!({"card_id": card_id, "pin": "pin", "documents": ["passport"]})).await;
    assert_eq!(
        (status, &body["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("pin")),
        "{body}"
    );
    let (status, _) =
        open(json!({"card_id": "0000000000000000", "pin": "auth", "documents": ["passport"]}))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Another municipality's officer finds no such card.
    let sapporo = kit.login("sapporo").await;
    let (status, _) = kit
        .call(
            "POST",
            "/api/v1/cards/pin-reset",
            Some(&sapporo),
            Some(json!({"card_id": card_id, "pin": "auth", "documents": ["passport"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, opened) =
        open(json!({"card_id": card_id, "pin": "auth", "documents": ["passport"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let code = opened["code"].as_str().unwrap().to_owned();
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
        (
            StatusCode::OK,
            json!({"language": "ja", "reset_pin": "auth"})
        )
    );
    // The four-PIN path does not take a reset's code.
    let mut four = super::counter::pins("ABC123");
    four["code"] = json!(code);
    let (status, _) = kit
        .call("POST", "/api/v1/pinpad/pins", None, Some(four))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let pad = |pin: &str, again: &str| {
        kit.call(
            "POST",
            "/api/v1/pinpad/reset",
            None,
            Some(json!({"code": code, "pin": pin, "pin_again": again})),
        )
    };
    let (status, refused) = pad("12a4", "12a4").await;
    assert_eq!(
        (status, &refused["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("pin")),
        "{refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().contains("4桁"),
        "{refused}"
    );
    let (status, refused) = pad("2468", "2469").await;
    assert_eq!(
        (status, &refused["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("pin_again"))
    );
    let (status, held) = pad("2468", "2468").await;
    assert_eq!(
        (status, held),
        (StatusCode::OK, json!({"state": "pin-held"}))
    );
    assert!(kit
        .store
        .held_reset_pin(&card_id, "auth")
        .await
        .unwrap()
        .is_some());

    // The card in the reader: three wrong tries block the authentication PIN only.
    let mut reader = chip(&kit, &card_id).await;
    select(&mut reader, &AID_JPKI, jpki_ef::AUTH_PIN);
    for _ in 0..3 {
        verify(&mut reader, "0000");
    }
    assert_eq!(verify(&mut reader, "1234"), 0x6983);
    select(&mut reader, &AID_JPKI, jpki_ef::SIGN_PIN);
    assert_eq!(verify(&mut reader, "ABC123"), 0x9000);

    let service = kit.state.service.clone();
    let actor = counter_actor();
    let passport = vec!["passport".to_owned()];
    // A wrong card in the reader: refused by the chip, nothing recorded or erased.
    let mut other = chip(&kit, &active_card(&kit, "桜", 302, true).await).await;
    let error = service
        .reset_pin(
            &actor,
            &card_id,
            "auth",
            NewPin::FromPinpad,
            &passport,
            &mut other,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "wrong_card", "{error:?}");
    assert!(kit
        .store
        .held_reset_pin(&card_id, "auth")
        .await
        .unwrap()
        .is_some());

    let done = service
        .reset_pin(
            &actor,
            &card_id,
            "auth",
            NewPin::FromPinpad,
            &passport,
            &mut reader,
        )
        .await
        .unwrap();
    assert_eq!((done.pin.as_str(), done.done.as_str()), ("auth", "new-pin"));
    select(&mut reader, &AID_JPKI, jpki_ef::AUTH_PIN);
    assert_eq!(verify(&mut reader, "1234"), 0x63C2);
    assert_eq!(verify(&mut reader, "2468"), 0x9000);
    // The held PIN is erased; the history names the PIN.
    assert!(kit
        .store
        .held_reset_pin(&card_id, "auth")
        .await
        .unwrap()
        .is_none());
    assert!(events(&kit, &card_id)
        .await
        .contains(&("pin-reset".into(), "auth".into())));

    // Unblock only: the signature password blocked, then its tries restored.
    select(&mut reader, &AID_JPKI, jpki_ef::SIGN_PIN);
    for _ in 0..5 {
        verify(&mut reader, "WRONG1");
    }
    assert_eq!(verify(&mut reader, "ABC123"), 0x6983);
    service
        .reset_pin(
            &actor,
            &card_id,
            "sign",
            NewPin::Unblock,
            &passport,
            &mut reader,
        )
        .await
        .unwrap();
    select(&mut reader, &AID_JPKI, jpki_ef::SIGN_PIN);
    assert_eq!(verify(&mut reader, "ABC123"), 0x9000);
    // A typed PIN of the wrong shape never reaches the chip.
    let error = service
        .reset_pin(
            &actor,
            &card_id,
            "support",
            NewPin::Typed(Zeroizing::new("12345".into())),
            &passport,
            &mut reader,
        )
        .await
        .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("new_pin"));
}

#[tokio::test]
async fn the_facts_are_rewritten_after_the_residence_pin_and_certificates_renewed_on_the_same_chip()
{
    let kit = Kit::start_with_pki().await;
    let registrar = kit.login("registrar").await;
    let card_id = active_card(&kit, "花子", 311, true).await;
    let resident_key = kit
        .store
        .card_record(&card_id)
        .await
        .unwrap()
        .resident_key
        .unwrap();
    let code = kit
        .store
        .authority()
        .resident_code(resident_key)
        .unwrap()
        .as_digits();
    let address = "東京都千代田区永田町1-7-1";
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/address"),
            Some(&registrar),
            Some(json!({"address": address})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let service = kit.state.service.clone();
    let actor = counter_actor();
    let mut reader = chip(&kit, &card_id).await;
    let before = reader.to_bytes().unwrap();
    // The wrong residence PIN: refused naming the tries left, nothing written.
    let error = service
        .update_chip(&actor, &card_id, "0000", &mut reader)
        .await
        .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("residence_pin"));
    assert!(error.message.contains("2 tries left"), "{}", error.message);
    let error = service
        .update_chip(&actor, &card_id, "12", &mut reader)
        .await
        .unwrap_err();
    assert_eq!(error.field.as_deref(), Some("residence_pin"));
    let done = service
        .update_chip(&actor, &card_id, "1234", &mut reader)
        .await
        .unwrap();
    assert_eq!(done.address, address);
    assert_eq!(done.files.len(), 4);
    assert_ne!(reader.to_bytes().unwrap(), before);

    // The support AP shows the new address, and the issuer's signature checks
    // against the authentication CA's certificate the chip carries.
    select(&mut reader, &AID_SUPPORT, 0x0011);
    assert_eq!(verify(&mut reader, "5678"), 0x9000);
    let number = read(&mut reader, 0x0001);
    let facts = read(&mut reader, 0x0002);
    let signed = read(&mut reader, 0x0003);
    let inner = tlv::values(&facts, &[0xFF, 0x20]).unwrap();
    assert_eq!(tlv::values(inner, &[0xDF, 0x23]), Some(address.as_bytes()));
    let (digests, signature) = parse_signed_facts(&signed).unwrap();
    let authorities = service.authorities.clone().unwrap();
    let ca = PublicKey::from_certificate_der(authorities.auth.issuing().certificate_der()).unwrap();
    assert!(ca.verify_sha256(&digests, &signature));
    assert!(digest_matches(&signed, [0xDF, 0x31], &facts));
    assert!(digest_matches(&signed, [0xDF, 0x30], &number));
    assert!(events(&kit, &card_id)
        .await
        .contains(&("chip-updated".into(), "registry".into())));

    // The address change revoked the signature certificate; a new one on the
    // same chip: a new key, its certificate carrying the new address.
    let old_sign = reader.public_keys().unwrap().signature.unwrap();
    let renewed = service
        .renew_certificates(&actor, &card_id, true, "http://127.0.0.1:8080", &mut reader)
        .await
        .unwrap();
    assert!(renewed.authentication_serial.is_none());
    let new_sign = reader.public_keys().unwrap().signature.unwrap();
    assert_ne!(new_sign, old_sign);
    let certificate = reader.jpki_file(jpki_ef::SIGN_CERT).unwrap().to_vec();
    let key = PublicKey::from_certificate_der(&certificate).unwrap();
    let fresh = PublicKey::from_spki_der(&new_sign).unwrap();
    let mut signer = reader.clone();
    select(&mut signer, &AID_JPKI, jpki_ef::SIGN_PIN);
    assert_eq!(verify(&mut signer, "ABC123"), 0x9000);
    let digest = maina_pki::digest_info_sha256(&maina_pki::sha256(b"doc"));
    let [hi, lo] = jpki_ef::SIGN_KEY.to_be_bytes();
    assert_eq!(
        sw(&mut signer, &[0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]),
        0x9000
    );
    let mut apdu = vec![0x80, 0x2A, 0x00, 0x80, digest.len() as u8];
    apdu.extend_from_slice(&digest);
    apdu.push(0);
    let signed_doc = signer.respond(&apdu).data;
    assert!(key.verify_sha256(b"doc", &signed_doc) && fresh.verify_sha256(b"doc", &signed_doc));

    // Both renewed: the old authentication certificate revoked (renewed).
    let old_auth = kit
        .store
        .card_certificates(&card_id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.ca == "auth" && c.revoked_at.is_none())
        .unwrap();
    let renewed = service
        .renew_certificates(
            &actor,
            &card_id,
            false,
            "http://127.0.0.1:8080",
            &mut reader,
        )
        .await
        .unwrap();
    assert!(renewed.revoked.contains(&old_auth.serial), "{renewed:?}");
    let certificates = kit.store.card_certificates(&card_id).await.unwrap();
    let old = certificates
        .iter()
        .find(|c| c.serial == old_auth.serial)
        .unwrap();
    assert_eq!(old.reason.as_deref(), Some("renewed"));
    let good: Vec<_> = certificates
        .iter()
        .filter(|c| c.revoked_at.is_none())
        .collect();
    assert_eq!(good.len(), 2, "{certificates:?}");
    assert!(events(&kit, &card_id)
        .await
        .iter()
        .any(|(kind, _)| kind == "certificates-issued"));
}

#[tokio::test]
async fn a_card_made_without_an_issuer_key_is_refused_with_the_reason() {
    let kit = Kit::start_with_pki().await;
    let counter = kit.login("counter").await;
    let card_id = active_card(&kit, "花子", 321, false).await;
    let (status, body) = kit
        .call(
            "POST",
            "/api/v1/cards/pin-reset",
            Some(&counter),
            Some(json!({"card_id": card_id, "pin": "auth", "documents": ["passport"]})),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::CONFLICT, &json!("no_issuer_key")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("reissue"));
}
