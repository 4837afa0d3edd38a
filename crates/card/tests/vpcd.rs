#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The vpcd link: this test plays vpcd (it listens; the card connects) and checks the
//! frames, the ATR and that a changed PIN counter is saved before the answer leaves.

use maina_card::vpcd::{self, VpcdError};
use maina_card::{Card, Personalisation, ATR};
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
        auth_pin: &pin(PinKind::Authentication, "1234"),
        sign_pin: &pin(PinKind::Signature, "ABC123"),
        residence_pin: &pin(PinKind::Residence, "5678"),
        support_pin: &pin(PinKind::Support, "9012"),
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
