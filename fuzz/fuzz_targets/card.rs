//! The card under sequences of commands: each input is a run of APDUs, each preceded
//! by its length byte. No panic; a refused command (anything but 9000 or a counted
//! wrong PIN, 63Cx) changes nothing stored and returns no data.
#![no_main]
use libfuzzer_sys::fuzz_target;
use maina_card::{Card, Personalisation, StatusWord};
use maina_core::card::{Pin, PinKind};
use std::sync::OnceLock;

fn stored() -> &'static Card {
    static CARD: OnceLock<Card> = OnceLock::new();
    CARD.get_or_init(|| {
        let pin = |kind, text| Pin::new(kind, text).unwrap();
        let (card, _) = Card::manufacture(
            "0123456789ABCDEF",
            &Personalisation {
                my_number: "123456789018",
                name: "山田 太郎",
                address: "東京都千代田区千代田1-1",
                birth_date: "19900401",
                sex: "1",
                resident_code: "12345678901",
                auth_pin: &pin(PinKind::Authentication, "1234"),
                sign_pin: &pin(PinKind::Signature, "ABC123"),
                residence_pin: &pin(PinKind::Residence, "5678"),
                support_pin: &pin(PinKind::Support, "9012"),
                with_signature: true,
            },
        )
        .unwrap();
        card
    })
}

fuzz_target!(|data: &[u8]| {
    let mut card = stored().clone();
    card.power_on();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let (apdu, next) = tail.split_at(usize::from(len).min(tail.len()));
        rest = next;
        if apdu.first() == Some(&0xFF) {
            // A power cycle between commands.
            card.power_off();
            card.power_on();
            continue;
        }
        let before = card.to_bytes().unwrap();
        let response = card.respond(apdu);
        let counted = response.status.0 & 0xFFF0 == 0x63C0;
        if response.status != StatusWord::OK && !counted {
            assert!(response.data.is_empty());
            assert_eq!(card.to_bytes().unwrap(), before);
        }
    }
});
