//! `maina card expiring` writes one expiry letter per card and end, as a PDF whose
//! text carries the renewal form ID and the card's last day and whose QR code is
//! the online application page; a second run writes nothing; a bad look-ahead is
//! named. `maina card reissue` refuses a renewal before its window (naming the day
//! it opens) and a paid reissue without its fee.

use super::{fails, maina, ok, run, TestDir};
use maina_store::{Keys, Store};
use std::path::Path;

/// The demo's active cards with their last day, soonest first.
fn active_cards(data: &Path) -> Vec<(String, chrono::NaiveDate)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let keys = Keys::load(&data.join("keys").join("master.key")).unwrap();
        let store = Store::open(&maina_store::sqlite_url(&data.join("maina.sqlite3")), &keys)
            .await
            .unwrap();
        let mut cards: Vec<_> = store
            .cards()
            .await
            .unwrap()
            .into_iter()
            .filter(|card| card.status == "active")
            .filter_map(|card| {
                let day = chrono::NaiveDate::parse_from_str(card.expires_on.as_deref()?, "%Y-%m-%d");
                Some((card.id, day.ok()?))
            })
            .collect();
        store.close().await;
        cards.sort_by_key(|(_, day)| *day);
        cards
    })
}

#[test]
fn expiry_letters_are_written_once_with_the_form_id_the_end_and_the_qr_code() {
    let dir = TestDir::new();
    let data = dir.path().join("demo");
    ok(maina(&data, &["demo", "--no-serve", "--residents", "20"]));
    let cards = active_cards(&data);
    let (card_id, last_day) = cards.first().cloned().expect("the demo hands cards over");
    let today = (last_day - chrono::Duration::days(70)).format("%Y-%m-%d").to_string();
    let out = TestDir::new();
    let out_dir = out.path().to_str().unwrap();
    let args = [
        "card", "expiring", "--within", "3m", "--out", out_dir,
        "--public-url", "https://maina.example.jp/", "--today", &today,
    ];
    let written = ok(maina(&data, &args));
    let line = written
        .lines()
        .find(|line| line.starts_with(&format!("card {card_id} card ends")))
        .unwrap_or_else(|| panic!("{written}"));
    // card ID card ends DAY form FORM FILE
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[4], last_day.format("%Y-%m-%d").to_string(), "{line}");
    let form = words[6];
    assert_eq!(form.len(), 23, "{line}");
    let file = words[7];
    let (read, text) = run("pdftotext", &["-layout", file, "-"]);
    assert!(read, "{text}");
    assert!(text.contains(form), "the form ID: {text}");
    assert!(text.contains(&last_day.format("%Y-%m-%d").to_string()), "the last day: {text}");
    let png = out.path().join("letter");
    let (drawn, error) = run("pdftoppm", &["-r", "150", "-png", "-singlefile", file, png.to_str().unwrap()]);
    assert!(drawn, "{error}");
    let (decoded, qr) = run("zbarimg", &["--quiet", "--raw", out.path().join("letter.png").to_str().unwrap()]);
    assert!(decoded, "{qr}");
    // `run` also gives zbarimg's standard error (D-Bus chatter): the code is line 1.
    assert_eq!(qr.lines().next(), Some("https://maina.example.jp/apply"), "{qr}");
    // Once per card and end: a second run writes nothing.
    let again = ok(maina(&data, &args));
    assert!(again.contains("0 expiry letter(s) written"), "{again}");
    let bad = fails(maina(&data, &["card", "expiring", "--within", "3x", "--out", out_dir, "--public-url", "https://maina.example.jp"]));
    assert!(bad.contains("--within") && bad.contains("is not a duration"), "{bad}");

    // The renewal is refused today (the card ends in years), naming the day it opens.
    let refused = fails(maina(&data, &["card", "reissue", &card_id, "--reason", "expiry"]));
    let opens = (last_day.checked_sub_months(chrono::Months::new(3)).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    assert!(refused.contains("too early") && refused.contains(&opens), "{refused}");
    let refused = fails(maina(&data, &["card", "reissue", &card_id, "--reason", "damaged"]));
    assert!(refused.contains("fee missing: ¥1000 is due"), "{refused}");
    let done = ok(maina(&data, &["card", "reissue", &card_id, "--reason", "damaged", "--fee-paid", "1000"]));
    assert!(done.contains("card ¥800 + certificates ¥200") && done.contains("the old card is active"), "{done}");
}
