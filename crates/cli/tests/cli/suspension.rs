//! `maina card suspend` and `maina card lift` from the command line: the suspension
//! puts the authentication certificate on hold (the CRL says Certificate Hold) and
//! revokes the signature certificate, with the police report in the card's history;
//! refusals name why and change nothing. (The lift with the card in pcscd is in
//! tests/e2e/suspension.test.mjs.)

use super::{fails, field, initialised, maina, ok, run, TestDir, YAMADA};

#[test]
fn a_card_is_suspended_from_the_command_line_and_refusals_name_why() {
    let dir = initialised();
    let data = dir.path();
    let work = TestDir::new();
    let file = |name: &str| work.path().join(name).to_string_lossy().into_owned();
    let mut register = YAMADA.to_vec();
    register.extend(["--address", "東京都千代田区一番町1"]);
    let code = field(&ok(maina(data, &register)), "resident record code").replace(' ', "");
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

    // Unknown cards and malformed police reports: named, nothing changed.
    assert!(fails(maina(data, &["card", "suspend", "0000000000000000"])).contains("no such card"));
    assert!(fails(maina(data, &["card", "lift", "0000000000000000"])).contains("no such card"));
    let long = "9".repeat(41);
    assert!(fails(maina(
        data,
        &["card", "suspend", &card_id, "--police-receipt", &long]
    ))
    .contains("police_receipt"));
    // An active card cannot be lifted.
    assert!(fails(maina(data, &["card", "lift", &card_id])).contains("active"));
    assert!(ok(maina(data, &["card", "show", &card_id])).contains("status active"));

    let done = ok(maina(
        data,
        &[
            "card",
            "suspend",
            &card_id,
            "--police-receipt",
            "2026-0042",
            "--police-station",
            "丸の内警察署",
        ],
    ));
    assert!(done.contains("suspended"), "{done}");
    assert!(ok(maina(data, &["card", "show", &card_id])).contains("status suspended"));
    // Twice: refused, naming the state.
    assert!(fails(maina(data, &["card", "suspend", &card_id])).contains("suspended"));

    // The CRLs: the authentication certificate on hold, the signature one revoked.
    ok(maina(
        data,
        &["pki", "crl", "--ca", "auth", "--out", &file("auth.crl")],
    ));
    let (_, text) = run(
        "openssl",
        &["crl", "-in", &file("auth.crl"), "-noout", "-text"],
    );
    assert!(text.contains("Certificate Hold"), "{text}");
    ok(maina(
        data,
        &["pki", "crl", "--ca", "sign", "--out", &file("sign.crl")],
    ));
    let (_, text) = run(
        "openssl",
        &["crl", "-in", &file("sign.crl"), "-noout", "-text"],
    );
    assert!(text.contains("Key Compromise"), "{text}");
}
