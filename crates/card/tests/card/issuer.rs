//! The issuer's commands: GET CHALLENGE, RESET RETRY COUNTER, UPDATE BINARY and
//! GENERATE KEY PAIR under the card's issuer key; every refusal changes nothing.

use super::*;
use maina_card::issuer::{self, Area, CardKey, IssuerError, Protected};
use maina_card::personalise::pin_location;

fn select(card: &mut Card, aid: &[u8], fid: u16) {
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
    apdu.extend_from_slice(aid);
    assert_eq!(card.respond(&apdu).status, StatusWord::OK);
    let [hi, lo] = fid.to_be_bytes();
    assert_eq!(
        card.respond(&[0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]).status,
        StatusWord::OK
    );
}

fn fresh_challenge(card: &mut Card) -> [u8; 8] {
    issuer::challenge_of(&card.transmit(&issuer::GET_CHALLENGE)).unwrap()
}

fn send(card: &mut Card, key: &CardKey, command: &Protected) -> Result<Vec<u8>, IssuerError> {
    key.check(command, &card.transmit(&command.apdu))
}

/// Selects the PIN's file and resets it (a new PIN, or only the counter).
pub fn reset(card: &mut Card, kind: PinKind, new: Option<&Pin>) -> Result<(), IssuerError> {
    let (aid, fid) = pin_location(kind);
    select(card, aid, fid);
    let challenge = fresh_challenge(card);
    send(
        card,
        &card_key(),
        &card_key().reset_pin(&challenge, kind, new),
    )
    .map(drop)
}

fn block(card: &mut Card, fid: u16, wrong: &str, tries: u8) {
    select(card, &AID_JPKI, fid);
    for _ in 0..tries {
        card.respond(&hex(&verify_apdu(wrong)));
    }
}

fn tries(card: &Card, slot: PinSlot) -> u8 {
    card.pin_states()
        .into_iter()
        .find(|s| s.slot == slot)
        .unwrap()
        .tries_left
}

#[test]
fn a_reset_sets_the_new_pin_and_the_old_one_fails() {
    let mut card = card();
    block(&mut card, jpki_ef::AUTH_PIN, "0000", 3);
    assert_eq!(tries(&card, PinSlot::Authentication), 0);
    reset(
        &mut card,
        PinKind::Authentication,
        Some(&pin(PinKind::Authentication, "2468")),
    )
    .unwrap();
    assert_eq!(tries(&card, PinSlot::Authentication), 3);
    assert_eq!(sw(&mut card, &verify_apdu("1234")), "63C2");
    assert_eq!(sw(&mut card, &verify_apdu("2468")), "9000");
}

#[test]
fn a_blocked_signature_pin_blocks_no_other_and_unblocking_keeps_it() {
    let mut card = card();
    block(&mut card, jpki_ef::SIGN_PIN, "WRONG1", 5);
    assert_eq!(tries(&card, PinSlot::Signature), 0);
    for slot in [
        PinSlot::Authentication,
        PinSlot::Residence,
        PinSlot::Support,
    ] {
        assert_eq!(tries(&card, slot), 3, "{slot:?}");
    }
    select(&mut card, &AID_JPKI, jpki_ef::AUTH_PIN);
    assert_eq!(sw(&mut card, &verify_apdu("1234")), "9000");
    // Unblock only: the same password works again.
    reset(&mut card, PinKind::Signature, None).unwrap();
    assert_eq!(tries(&card, PinSlot::Signature), 5);
    assert_eq!(sw(&mut card, &verify_apdu("ABC123")), "9000");
}

#[test]
fn a_command_under_another_cards_key_is_refused_and_changes_nothing() {
    let mut card = card();
    block(&mut card, jpki_ef::AUTH_PIN, "0000", 3);
    let before = card.to_bytes().unwrap();
    let challenge = fresh_challenge(&mut card);
    let other = CardKey::new([8; 32]);
    let command = other.reset_pin(
        &challenge,
        PinKind::Authentication,
        Some(&pin(PinKind::Authentication, "2468")),
    );
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::SECURE_MESSAGING_WRONG
    );
    assert_eq!(card.to_bytes().unwrap(), before);
}

#[test]
fn a_replayed_or_unchallenged_command_is_refused() {
    let mut card = card();
    let (aid, fid) = pin_location(PinKind::Residence);
    select(&mut card, aid, fid);
    // No challenge asked.
    let command = card_key().reset_pin(&[0; 8], PinKind::Residence, None);
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    let challenge = fresh_challenge(&mut card);
    let command = card_key().reset_pin(
        &challenge,
        PinKind::Residence,
        Some(&pin(PinKind::Residence, "1111")),
    );
    send(&mut card, &card_key(), &command).unwrap();
    let after = card.to_bytes().unwrap();
    // The same bytes again: the challenge was spent.
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::CONDITIONS_NOT_SATISFIED
    );
    // Again after a fresh challenge: the old one is bound in.
    let _ = fresh_challenge(&mut card);
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::SECURE_MESSAGING_WRONG
    );
    assert_eq!(card.to_bytes().unwrap(), after);
}

#[test]
fn a_reset_built_for_another_pin_file_is_refused() {
    let mut card = card();
    let before = card.to_bytes().unwrap();
    // A 4-digit PIN for the signature password's file.
    let (aid, fid) = pin_location(PinKind::Signature);
    select(&mut card, aid, fid);
    let challenge = fresh_challenge(&mut card);
    let command = card_key().reset_pin(
        &challenge,
        PinKind::Authentication,
        Some(&pin(PinKind::Authentication, "2468")),
    );
    assert_eq!(card.respond(&command.apdu).status, StatusWord::WRONG_DATA);
    assert_eq!(card.to_bytes().unwrap(), before);
}

#[test]
fn a_card_without_an_issuer_key_refuses_clearly() {
    let p = Personalisation {
        my_number: "123456789018",
        name: "山田 太郎",
        address: "東京都千代田区千代田1-1",
        birth_date: "19900401",
        sex: "1",
        resident_code: "12345678901",
        pins: None,
        with_signature: false,
    };
    let (mut card, _) = Card::manufacture(CARD_ID, &p).unwrap();
    assert!(!card.has_issuer_key());
    let (aid, fid) = pin_location(PinKind::Support);
    select(&mut card, aid, fid);
    let challenge = fresh_challenge(&mut card);
    let command = card_key().reset_pin(&challenge, PinKind::Support, None);
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::REFERENCE_NOT_FOUND
    );
    // Written once, never replaced.
    card.install_issuer_key(&card_key()).unwrap();
    assert!(card.install_issuer_key(&card_key()).is_err());
}

fn read_facts(card: &mut Card) -> Vec<u8> {
    sw(card, SELECT_SUPPORT);
    sw(card, "00 A4 02 0C 02 00 11");
    assert_eq!(sw(card, &verify_apdu("9012")), "9000");
    sw(card, "00 A4 02 0C 02 00 02");
    card.respond(&hex("00 B0 00 00 00")).data
}

#[test]
fn the_facts_are_written_only_after_the_residence_pin() {
    let mut card = card();
    let facts = tlv::facts("山田 太郎", "大阪府大阪市北区1-1", "19900401", "1");
    let (aid, fid) = pin_location(PinKind::Residence);
    select(&mut card, aid, fid);
    let before = card.to_bytes().unwrap();
    let challenge = fresh_challenge(&mut card);
    let command = card_key().update_file(&challenge, Area::Support, support_ef::FACTS, &facts);
    assert_eq!(
        card.respond(&command.apdu).status,
        StatusWord::SECURITY_NOT_SATISFIED
    );
    assert_eq!(card.to_bytes().unwrap(), before);
    assert_eq!(sw(&mut card, &verify_apdu("5678")), "9000");
    for (area, fid, content) in [
        (Area::Support, support_ef::FACTS, facts.clone()),
        (Area::Support, support_ef::SIGNED_FACTS, vec![1, 2, 3]),
        (Area::Residence, residence_ef::ADDRESS, b"x".to_vec()),
    ] {
        let challenge = fresh_challenge(&mut card);
        send(
            &mut card,
            &card_key(),
            &card_key().update_file(&challenge, area, fid, &content),
        )
        .unwrap();
    }
    // A file outside the list (a PIN file) is never written.
    let challenge = fresh_challenge(&mut card);
    let command = card_key().update_file(&challenge, Area::Support, support_ef::PIN, b"0000");
    assert_eq!(card.respond(&command.apdu).status, StatusWord::WRONG_DATA);
    let read = read_facts(&mut card);
    assert_eq!(read, facts);
    assert_eq!(
        tlv::values(tlv::values(&read, &[0xFF, 0x20]).unwrap(), &[0xDF, 0x23]),
        Some("大阪府大阪市北区1-1".as_bytes())
    );
}

#[test]
fn a_new_key_pair_is_generated_on_the_chip_and_its_public_key_is_receipted() {
    let mut card = card();
    let old = stored().2.clone();
    select(&mut card, &AID_JPKI, jpki_ef::SIGN_PIN);
    let challenge = fresh_challenge(&mut card);
    let command = card_key().generate_key(&challenge, jpki_ef::SIGN_KEY);
    let response = card.transmit(&command.apdu);
    let public = card_key().check(&command, &response).unwrap();
    assert_ne!(public, old);
    assert_eq!(card.public_keys().unwrap().signature.unwrap(), public);
    // A public key swapped on the way is caught by the receipt.
    let mut forged = response.clone();
    forged[40] ^= 1;
    assert_eq!(
        card_key().check(&command, &forged),
        Err(IssuerError::BadReceipt)
    );
    // The new key signs (after the password), verifiable under the new public key.
    sw(&mut card, SELECT_JPKI);
    sw(&mut card, "00 A4 02 0C 02 00 1B");
    assert_eq!(sw(&mut card, &verify_apdu("ABC123")), "9000");
    sw(&mut card, "00 A4 02 0C 02 00 1A");
    let digest = digest_info_sha256(&sha256(b"hello"));
    let mut apdu = vec![0x80, 0x2A, 0x00, 0x80, digest.len() as u8];
    apdu.extend_from_slice(&digest);
    apdu.push(0);
    let signature = card.respond(&apdu);
    assert_eq!(signature.status, StatusWord::OK);
    let key = PublicKey::from_spki_der(&public).unwrap();
    assert!(key.verify_sha256(b"hello", &signature.data));
    // And the whole card survives storage.
    let reloaded = Card::from_bytes(&card.to_bytes().unwrap()).unwrap();
    assert_eq!(reloaded.public_keys().unwrap().signature.unwrap(), public);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever a counter PC sends as an issuer command, without the key nothing
    /// changes on the chip.
    #[test]
    fn forged_issuer_commands_change_nothing(
        ins in prop::sample::select(vec![0x2Cu8, 0xD6, 0x46]),
        p1 in prop::sample::select(vec![0u8, 3]),
        data in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        let mut card = card();
        let (aid, fid) = pin_location(PinKind::Authentication);
        select(&mut card, aid, fid);
        let before = card.to_bytes().unwrap();
        let _ = fresh_challenge(&mut card);
        let mut apdu = vec![0x84, ins, p1, if ins == 0x2C { 0x80 } else { 0 }, 0];
        apdu.extend_from_slice(&(data.len() as u16).to_be_bytes());
        apdu.extend_from_slice(&data);
        let status = card.respond(&apdu).status;
        prop_assert_ne!(status, StatusWord::OK);
        prop_assert_eq!(card.to_bytes().unwrap(), before);
    }
}
