//! The card and the registry from the command line: a change of address and a move
//! write the notes panel (both entries listed), the signature certificate they
//! revoked is on the signature CA's CRL (read back with openssl), continued use
//! after the move, the job for cron, a departure noted; bad input names the rule.

use super::{fails, field, initialised, maina, ok, run, TestDir, YAMADA};

#[test]
fn the_notes_panel_lists_both_changes_and_the_signature_certificate_is_on_the_crl() {
    let dir = initialised();
    let data = dir.path();
    let work = TestDir::new();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &args)), "resident record code").replace(' ', "");
    let mut create = vec!["card", "create", "--resident", &code];
    create.extend([
        "--auth-pin",
        "1234",
        "--sign-pin",
        "abc123",
        "--residence-pin",
        "5678",
        "--support-pin",
        "9012",
    ]);
    let card_id = ok(maina(data, &create)).trim().to_string();
    let shown = ok(maina(data, &["card", "show", &card_id]));
    let sign_serial = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate sign "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let notes = ok(maina(data, &["card", "notes", &card_id]));
    assert!(notes.contains("signature certificate: good"), "{notes}");

    ok(maina(
        data,
        &[
            "resident",
            "address",
            &code,
            "--address",
            "東京都千代田区二番町2",
        ],
    ));
    ok(maina(
        data,
        &[
            "resident",
            "move",
            &code,
            "--municipality",
            "011002",
            "--address",
            "北海道札幌市中央区北1条西2丁目",
        ],
    ));
    let notes = ok(maina(data, &["card", "notes", &card_id, "--lang", "ja"]));
    let first = notes.find("1. ").unwrap();
    let second = notes.find("2. ").unwrap();
    assert!(first < second, "{notes}");
    assert!(notes.contains("住所変更: 東京都千代田区二番町2"), "{notes}");
    assert!(
        notes.contains("住所変更: 北海道札幌市中央区北1条西2丁目"),
        "{notes}"
    );
    // The second entry takes two lines (the date counted at its longest).
    assert!(notes.contains("lines used: 3 of 6"), "{notes}");
    assert!(notes.contains("signature certificate: offered"), "{notes}");

    // The revoked signature certificate is on the signature CA's CRL.
    let crl = work.path().join("sign.crl");
    ok(maina(
        data,
        &["pki", "crl", "--ca", "sign", "--out", crl.to_str().unwrap()],
    ));
    let (read, text) = run(
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            crl.to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(read, "{text}");
    let listed = sign_serial.trim_start_matches('0').to_ascii_uppercase();
    assert!(
        text.to_ascii_uppercase().contains(&listed),
        "{sign_serial} in {text}"
    );

    // The move left continued use due; bad input names the rule and changes nothing.
    let refused = fails(maina(
        data,
        &[
            "card",
            "continued-use",
            &card_id,
            "--card-number",
            "1234567890",
        ],
    ));
    assert!(refused.contains("the card must be present"), "{refused}");
    let refused = fails(maina(
        data,
        &[
            "card",
            "move-out",
            &card_id,
            "--to",
            "131016",
            "--planned",
            "2000-01-01",
        ],
    ));
    assert!(refused.contains("planned date must be within"), "{refused}");
    let done = ok(maina(
        data,
        &["card", "continued-use", &card_id, "--card-number", &card_id],
    ));
    assert!(done.contains("continued"), "{done}");
    let ended = ok(maina(data, &["card", "end-overdue"]));
    assert!(ended.contains("0 card(s) voided"), "{ended}");

    // A Japanese national who leaves keeps the card: noted, certificates revoked.
    ok(maina(data, &["resident", "depart", &code]));
    let notes = ok(maina(data, &["card", "notes", &card_id, "--lang", "ja"]));
    assert!(notes.contains("3. "), "{notes}");
    assert!(notes.contains("国外転出"), "{notes}");
    assert!(notes.contains("signature certificate: revoked"), "{notes}");
    let shown = ok(maina(data, &["card", "show", &card_id]));
    assert!(shown.contains("active"), "{shown}");
}
