#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The card answers every command as REFERENCE section 5 says.

use maina_card::*;
use maina_core::card::{Pin, PinKind};
use maina_pki::{digest_info_sha256, sha256, PublicKey};
use proptest::prelude::*;
use std::sync::OnceLock;

#[path = "card/issuer.rs"]
mod issuer;

const CARD_ID: &str = "0123456789ABCDEF";

/// The card's issuer key in these tests.
fn card_key() -> maina_card::issuer::CardKey {
    maina_card::issuer::CardKey::new([7; 32])
}

fn pin(kind: PinKind, text: &str) -> Pin {
    Pin::new(kind, text).unwrap()
}

fn new_card(with_signature: bool) -> (Card, PublicKeys) {
    let p = Personalisation {
        my_number: "123456789018",
        name: "山田 太郎",
        address: "東京都千代田区千代田1-1",
        birth_date: "19900401",
        sex: "1",
        resident_code: "12345678901",
        pins: Some(InitialPins {
            authentication: &pin(PinKind::Authentication, "1234"),
            signature: &pin(PinKind::Signature, "ABC123"),
            residence: &pin(PinKind::Residence, "5678"),
            support: &pin(PinKind::Support, "9012"),
        }),
        with_signature,
    };
    let (mut card, keys) = Card::manufacture(CARD_ID, &p).unwrap();
    card.install_issuer_key(&card_key()).unwrap();
    card.install_certificates(Certificates {
        authentication: vec![0x30, 0x82, 0x01, 0x00, 1, 2, 3],
        authentication_ca: vec![0x30, 0x82, 0x00, 0x03, 4, 5, 6],
        signature: with_signature.then(|| vec![0x30, 0x82, 0x00, 0x02, 7, 8]),
        signature_ca: vec![0x30, 0x82, 0x00, 0x01, 9],
    });
    (card, keys)
}

/// One stored card, copied per test (keys take a while to generate).
fn stored() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static CARD: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    CARD.get_or_init(|| {
        let (card, keys) = new_card(true);
        (
            card.to_bytes().unwrap(),
            keys.authentication,
            keys.signature.unwrap(),
        )
    })
}

fn card() -> Card {
    Card::from_bytes(&stored().0).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.replace(' ', "")).unwrap()
}

fn sw(card: &mut Card, apdu: &str) -> String {
    let response = card.respond(&hex(apdu));
    format!("{}", response.status)
}

const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
const SELECT_SUPPORT: &str = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08";

fn verify_apdu(pin: &str) -> String {
    format!("00 20 00 80 {:02X} {}", pin.len(), hex::encode(pin))
}

#[test]
fn jpki_commands_are_answered_as_the_real_card() {
    let mut card = card();
    assert_eq!(sw(&mut card, "00 A4 04 0C 07 A0 00 00 00 03 10 10"), "6A82");
    assert_eq!(sw(&mut card, SELECT_JPKI), "9000");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 0A"), "9000");
    let head = card.respond(&hex("00 B0 00 00 04"));
    assert_eq!(head.data, vec![0x30, 0x82, 0x01, 0x00]);
    let all = card.respond(&hex("00 B0 00 00 00"));
    assert_eq!(all.data.len(), 7);
    assert_eq!(card.respond(&hex("00 B0 00 05 00")).data, vec![2, 3]);
    assert_eq!(sw(&mut card, "00 B0 00 09 00"), "6B00");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 06"), "9000");
    assert!(card
        .respond(&hex("00 B0 00 00 00"))
        .data
        .starts_with(JPKI_TOKEN));
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 12 34"), "6A82");
    // The signature certificate: 6982 before the password, readable after.
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 01"), "9000");
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), "6982");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 1B"), "9000");
    assert_eq!(sw(&mut card, "00 20 00 80"), "63C5");
    assert_eq!(sw(&mut card, &verify_apdu("ABC123")), "9000");
    // Always 63Cx, even after a good VERIFY.
    assert_eq!(sw(&mut card, "00 20 00 80"), "63C5");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 01"), "9000");
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), "9000");
    // Keys and PINs cannot be read.
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 17"), "9000");
    assert_eq!(sw(&mut card, "00 B0 00 00 00"), "6981");
}

#[test]
fn signatures_need_the_pin_and_verify_under_the_card_key() {
    let mut card = card();
    let digest_info = digest_info_sha256(&sha256(b"hello"));
    let sign = |card: &mut Card| {
        let mut apdu = vec![0x80, 0x2A, 0x00, 0x80, digest_info.len() as u8];
        apdu.extend_from_slice(&digest_info);
        apdu.push(0);
        card.respond(&apdu)
    };
    sw(&mut card, SELECT_JPKI);
    sw(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(sign(&mut card).status, StatusWord::SECURITY_NOT_SATISFIED);
    sw(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(sw(&mut card, &verify_apdu("1234")), "9000");
    sw(&mut card, "00 A4 02 0C 02 00 17");
    let response = sign(&mut card);
    assert_eq!(response.status, StatusWord::OK);
    assert_eq!(response.data.len(), 256);
    let auth_key = PublicKey::from_spki_der(&stored().1).unwrap();
    assert!(auth_key.verify_sha256(b"hello", &response.data));
    // The authentication key may sign again in the same session...
    assert_eq!(sign(&mut card).status, StatusWord::OK);
    // ...the signature key needs a fresh VERIFY before each signature.
    sw(&mut card, "00 A4 02 0C 02 00 1B");
    assert_eq!(sw(&mut card, &verify_apdu("ABC123")), "9000");
    sw(&mut card, "00 A4 02 0C 02 00 1A");
    let signed = sign(&mut card);
    assert_eq!(signed.status, StatusWord::OK);
    let sign_key = PublicKey::from_spki_der(&stored().2).unwrap();
    assert!(sign_key.verify_sha256(b"hello", &signed.data));
    assert_eq!(sign(&mut card).status, StatusWord::SECURITY_NOT_SATISFIED);
    // A DigestInfo too long for the key is a length error.
    let mut long = vec![0x80, 0x2A, 0x00, 0x80, 250];
    long.extend(std::iter::repeat_n(1u8, 250));
    long.push(0);
    assert_eq!(card.respond(&long).status, StatusWord::WRONG_LENGTH);
}

#[test]
fn pins_count_down_lock_and_the_session_clears() {
    let mut card = card();
    sw(&mut card, SELECT_JPKI);
    sw(&mut card, "00 A4 02 0C 02 00 18");
    // A PIN of the wrong shape is refused without costing a try.
    assert_eq!(sw(&mut card, &verify_apdu("12a4")), "6A80");
    assert_eq!(sw(&mut card, &verify_apdu("12345")), "6A80");
    assert_eq!(sw(&mut card, "00 20 00 80"), "63C3");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), "63C2");
    assert_eq!(sw(&mut card, &verify_apdu("1234")), "9000");
    assert_eq!(sw(&mut card, "00 20 00 80"), "63C3");
    // Verified state is cleared by a re-select, a power cycle and a reset.
    sw(&mut card, "00 A4 02 0C 02 00 17");
    let digest_info = digest_info_sha256(&sha256(b"x"));
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, digest_info.len() as u8];
    sign.extend_from_slice(&digest_info);
    sign.push(0);
    assert_eq!(card.respond(&sign).status, StatusWord::OK);
    sw(&mut card, SELECT_JPKI);
    sw(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(
        card.respond(&sign).status,
        StatusWord::SECURITY_NOT_SATISFIED
    );
    for clear in [0, 1] {
        sw(&mut card, SELECT_JPKI);
        sw(&mut card, "00 A4 02 0C 02 00 18");
        assert_eq!(sw(&mut card, &verify_apdu("1234")), "9000");
        if clear == 0 {
            card.power_off();
        }
        card.power_on();
        assert_eq!(
            sw(&mut card, "00 A4 02 0C 02 00 17"),
            "6A82",
            "nothing is selected after power-on"
        );
        sw(&mut card, SELECT_JPKI);
        sw(&mut card, "00 A4 02 0C 02 00 17");
        assert_eq!(
            card.respond(&sign).status,
            StatusWord::SECURITY_NOT_SATISFIED
        );
    }
    // Three wrong tries lock the PIN; the right one no longer helps.
    sw(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), "63C2");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), "63C1");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), "63C0");
    assert_eq!(sw(&mut card, &verify_apdu("1234")), "6983");
    assert_eq!(sw(&mut card, "00 20 00 80"), "63C0");
    // The counters survive storage; the office resets a blocked PIN.
    let mut reloaded = Card::from_bytes(&card.to_bytes().unwrap()).unwrap();
    let auth = reloaded
        .pin_states()
        .into_iter()
        .find(|s| s.slot == PinSlot::Authentication)
        .unwrap();
    assert_eq!((auth.tries_left, auth.max_tries), (0, 3));
    sw(&mut reloaded, SELECT_JPKI);
    sw(&mut reloaded, "00 A4 02 0C 02 00 18");
    issuer::reset(
        &mut reloaded,
        PinKind::Authentication,
        Some(&pin(PinKind::Authentication, "4321")),
    )
    .unwrap();
    assert_eq!(sw(&mut reloaded, &verify_apdu("4321")), "9000");
    // CHANGE REFERENCE DATA after a good VERIFY.
    assert_eq!(
        sw(
            &mut reloaded,
            &format!("00 24 01 80 04 {}", hex::encode("7777"))
        ),
        "9000"
    );
    sw(&mut reloaded, SELECT_JPKI);
    sw(&mut reloaded, "00 A4 02 0C 02 00 18");
    assert_eq!(
        sw(
            &mut reloaded,
            &format!("00 24 01 80 04 {}", hex::encode("8888"))
        ),
        "6982"
    );
    assert_eq!(sw(&mut reloaded, &verify_apdu("7777")), "9000");
    assert_eq!(
        sw(
            &mut reloaded,
            &format!("00 24 01 80 03 {}", hex::encode("888"))
        ),
        "6A80"
    );
}

#[test]
fn the_support_application_gives_the_number_and_the_four_facts_after_its_pin() {
    let mut card = card();
    assert_eq!(sw(&mut card, SELECT_SUPPORT), "9000");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 01"), "9000");
    assert_eq!(sw(&mut card, "00 B0 00 00 00"), "6982");
    sw(&mut card, "00 A4 02 0C 02 00 11");
    assert_eq!(sw(&mut card, &verify_apdu("9012")), "9000");
    sw(&mut card, "00 A4 02 0C 02 00 01");
    let number = card.respond(&hex("00 B0 00 00 00"));
    assert_eq!(
        tlv::values(&number.data, &[0xD0]),
        Some(&b"123456789018"[..])
    );
    sw(&mut card, "00 A4 02 0C 02 00 02");
    let facts = card.respond(&hex("00 B0 00 00 00")).data;
    let inner = tlv::values(&facts, &[0xFF, 0x20]).unwrap();
    assert_eq!(
        std::str::from_utf8(tlv::values(inner, &[0xDF, 0x22]).unwrap()).unwrap(),
        "山田 太郎"
    );
    assert_eq!(tlv::values(inner, &[0xDF, 0x24]), Some(&b"19900401"[..]));
    assert_eq!(tlv::values(inner, &[0xDF, 0x25]), Some(&b"1"[..]));
    // PIN-A is the My Number itself.
    sw(&mut card, SELECT_SUPPORT);
    sw(&mut card, "00 A4 02 0C 02 00 14");
    assert_eq!(sw(&mut card, &verify_apdu("123456789018")), "9000");
    // The residence application, with its own PIN.
    assert_eq!(
        sw(&mut card, "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 01"),
        "9000"
    );
    sw(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(sw(&mut card, "00 B0 00 00 00"), "6982");
    sw(&mut card, "00 A4 02 0C 02 00 1C");
    assert_eq!(sw(&mut card, &verify_apdu("5678")), "9000");
    sw(&mut card, "00 A4 02 0C 02 00 01");
    let code = card.respond(&hex("00 B0 00 00 00")).data;
    assert_eq!(tlv::values(&code, &[0xD0]), Some(&b"12345678901"[..]));
}

#[test]
fn bad_commands_get_the_standard_status_words() {
    let mut card = card();
    for (apdu, expected) in [
        ("00", "6700"),
        ("00 A4 04", "6700"),
        ("00 A4 04 0C 0A D3 92", "6700"),
        ("00 A4 04 0C 02 D3 92 00 00", "6700"),
        ("00 B0 00 00 00", "6986"),
        ("00 20 00 80 04 31 32 33 34", "6986"),
        ("80 2A 00 80 01 00 00", "6986"),
        ("00 A4 02 0C 02 00 0A", "6A82"),
        ("00 CA 00 00 00", "6D00"),
        ("A0 A4 00 00 02 3F 00", "6E00"),
        ("00 A4 07 0C 02 00 0A", "6A86"),
    ] {
        assert_eq!(sw(&mut card, apdu), expected, "{apdu}");
    }
    sw(&mut card, SELECT_JPKI);
    assert_eq!(sw(&mut card, "00 A4 02 0C 03 00 0A 00"), "6700");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 0A"), "9000");
    assert_eq!(sw(&mut card, "00 B0 80 00 00"), "6A86");
    assert_eq!(sw(&mut card, "00 B0 00 00"), "6700");
    assert_eq!(sw(&mut card, "80 2A 00 80 01 00 00"), "6981");
    assert_eq!(sw(&mut card, "00 20 00 80 04 31 32 33 34"), "6986");
}

#[test]
fn a_child_card_has_no_signature_key() {
    let (mut card, keys) = new_card(false);
    assert!(keys.signature.is_none());
    sw(&mut card, SELECT_JPKI);
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 1A"), "6A82");
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 01"), "6A82");
    // The signature password is set all the same.
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 1B"), "9000");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes after any selection: an answer, never a panic; and a refused command
    /// (anything but 9000 or a counted wrong PIN) changes nothing stored.
    #[test]
    fn no_command_breaks_the_card(
        app in 0usize..4,
        fid in prop::sample::select(vec![0x0001u16, 0x0002, 0x0006, 0x000A, 0x0011, 0x0014, 0x0017, 0x0018, 0x001A, 0x001B, 0x001C]),
        apdu in prop::collection::vec(any::<u8>(), 0..270),
    ) {
        let mut card = card();
        let aid = ["D392F000260100000001", "D39210003100010104 08", "D3921000310001010401", "A000000003"][app];
        sw(&mut card, &format!("00 A4 04 0C {:02X} {}", aid.replace(' ', "").len() / 2, aid));
        sw(&mut card, &format!("00 A4 02 0C 02 {fid:04X}"));
        let before = card.to_bytes().unwrap();
        let response = card.respond(&apdu);
        let counted = response.status.0 & 0xFFF0 == 0x63C0;
        if response.status != StatusWord::OK && !counted {
            prop_assert_eq!(card.to_bytes().unwrap(), before);
            prop_assert!(response.data.is_empty());
        }
    }
}

/// The vpcd link (one test binary per crate: it lives here).
mod vpcd_link {
    // The vpcd link: this test plays vpcd (it listens; the card connects) and checks the
    // frames, the ATR and that a changed PIN counter is saved before the answer leaves.

    use maina_card::vpcd::{self, VpcdError};
    use maina_card::{Card, InitialPins, Personalisation, ATR};
    use maina_core::card::{Pin, PinKind};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;

    fn pin(kind: PinKind, text: &str) -> Pin {
        Pin::new(kind, text).unwrap()
    }

    fn new_card() -> Card {
        let p = Personalisation {
            my_number: "123456789018",
            name: "山田 太郎",
            address: "東京都千代田区千代田1-1",
            birth_date: "19900401",
            sex: "1",
            resident_code: "12345678901",
            pins: Some(InitialPins {
                authentication: &pin(PinKind::Authentication, "1234"),
                signature: &pin(PinKind::Signature, "ABC123"),
                residence: &pin(PinKind::Residence, "5678"),
                support: &pin(PinKind::Support, "9012"),
            }),
            with_signature: false,
        };
        let (card, _) = Card::manufacture("0123456789ABCDEF", &p).unwrap();
        // As `maina card attach` has it: loaded from the store, nothing unsaved.
        Card::from_bytes(&card.to_bytes().unwrap()).unwrap()
    }

    fn send(stream: &mut TcpStream, payload: &[u8]) {
        let mut frame = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        frame.extend_from_slice(payload);
        stream.write_all(&frame).unwrap();
    }

    fn receive(stream: &mut TcpStream) -> Vec<u8> {
        let mut header = [0u8; 2];
        stream.read_exact(&mut header).unwrap();
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(header))];
        stream.read_exact(&mut payload).unwrap();
        payload
    }

    #[test]
    fn vpcd_frames_are_answered_and_pin_counters_saved_first() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let (saved_tx, saved_rx) = mpsc::channel::<Vec<u8>>();
        let chip = std::thread::spawn(move || {
            let mut card = new_card();
            let mut stream = TcpStream::connect(address).unwrap();
            vpcd::serve(&mut card, &mut stream, |content: &[u8]| {
                saved_tx
                    .send(content.to_vec())
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
        });
        let (mut vpcd, _) = listener.accept().unwrap();

        send(&mut vpcd, &[1]);
        send(&mut vpcd, &[4]);
        assert_eq!(receive(&mut vpcd), ATR.to_vec());
        // SELECT the JPKI application.
        send(
            &mut vpcd,
            &hex::decode("00A4040C0AD392F000260100000001").unwrap(),
        );
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        assert!(saved_rx.try_recv().is_err(), "nothing changed yet");
        // SELECT the authentication PIN file, then a wrong PIN: one try gone.
        send(&mut vpcd, &hex::decode("00A4020C020018").unwrap());
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        send(&mut vpcd, &hex::decode("002000800430303030").unwrap());
        assert_eq!(receive(&mut vpcd), vec![0x63, 0xC2]);
        let saved = saved_rx.try_recv().expect("saved before the answer");
        let reloaded = Card::from_bytes(&saved).unwrap();
        assert!(reloaded.pin_states().iter().any(|s| s.tries_left == 2));

        drop(vpcd);
        chip.join().unwrap().unwrap();
    }

    #[test]
    fn a_failing_save_ends_the_connection_with_its_reason() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let chip = std::thread::spawn(move || {
            let mut card = new_card();
            let mut stream = TcpStream::connect(address).unwrap();
            vpcd::serve(&mut card, &mut stream, |_: &[u8]| {
                Err(std::io::Error::other("database gone"))
            })
        });
        let (mut vpcd, _) = listener.accept().unwrap();
        send(
            &mut vpcd,
            &hex::decode("00A4040C0AD392F000260100000001").unwrap(),
        );
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        send(&mut vpcd, &hex::decode("00A4020C020018").unwrap());
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        send(&mut vpcd, &hex::decode("002000800430303030").unwrap());
        let error = chip.join().unwrap().unwrap_err();
        assert!(matches!(error, VpcdError::Save(_)), "{error}");
        assert!(error.to_string().contains("database gone"));
    }

    #[test]
    fn an_attached_card_stops_when_its_save_is_refused() {
        // Another process saved the card (the store refuses a save of a stale
        // version): `attach` stops instead of connecting again with its stale copy,
        // which would count PIN tries from the old number.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (reconnected_tx, reconnected_rx) = mpsc::channel::<()>();
        let chip = std::thread::spawn(move || {
            let mut card = new_card();
            vpcd::attach(
                &mut card,
                &address,
                |_: &[u8]| Err(std::io::Error::other("saved by another process")),
                |event| {
                    if matches!(event, vpcd::LinkEvent::Attached) {
                        let _ = reconnected_tx.send(());
                    }
                },
            )
        });
        let (mut vpcd, _) = listener.accept().unwrap();
        reconnected_rx.recv().unwrap();
        send(
            &mut vpcd,
            &hex::decode("00A4040C0AD392F000260100000001").unwrap(),
        );
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        send(&mut vpcd, &hex::decode("00A4020C020018").unwrap());
        assert_eq!(receive(&mut vpcd), vec![0x90, 0x00]);
        send(&mut vpcd, &hex::decode("002000800430303030").unwrap());
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(chip.join());
        });
        let result = done_rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("attach returned instead of connecting again");
        let error = result.unwrap().unwrap_err();
        assert!(matches!(error, VpcdError::Save(_)), "{error}");
        // The wrong PIN was not answered.
        let mut rest = Vec::new();
        let _ = vpcd.read_to_end(&mut rest);
        assert!(rest.is_empty(), "{rest:?}");
    }
}
