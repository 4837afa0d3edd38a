//! The counter's chip commands from the command line: the PIN pad opened for one
//! PIN's reset (a code printed), refusals naming the field or the reason (a wrong
//! PIN name, too few documents, a card made without an issuer key), and a command
//! that needs the card in a reader fails cleanly without one. (The commands with the
//! card in a reader run in `tests/e2e/pin_reset.test.mjs`, through pcscd.)

use super::counter::{ready_card, store};
use super::{fails, initialised, maina, maina_in, ok, YAMADA};
use maina_card::issuer::CardKey;
use maina_card::Card;

#[test]
fn the_pin_reset_pad_opens_for_one_pin_and_refusals_name_why() {
    let dir = initialised();
    let data = dir.path();
    let mut args = YAMADA.to_vec();
    args.extend(["--address", "東京都千代田区一番町1"]);
    let out = ok(maina(data, &args));
    let code = super::field(&out, "resident record code").replace(' ', "");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let card_id = runtime.block_on(ready_card(data, &code));
    let hand_over = [
        "pickup",
        "hand-over",
        card_id.as_str(),
        "--document",
        "passport",
    ];
    ok(maina_in(data, &hand_over, "1234\nABC123\n1234\n5678"));
    let pad = |pin: &str, document: &str| {
        maina(
            data,
            &[
                "card",
                "pin-reset-pad",
                &card_id,
                "--pin",
                pin,
                "--document",
                document,
            ],
        )
    };

    // Made without an issuer key (as cards before this design): refused, the
    // reason named.
    let error = fails(pad("auth", "passport"));
    assert!(error.contains("without an issuer key"), "{error}");

    // The bureau's key written into the stored chip (what manufacture does now).
    runtime.block_on(async {
        let store = store(data).await;
        let (record, stored) = store.card(&card_id).await.unwrap();
        let mut chip = Card::from_bytes(&stored).unwrap();
        chip.install_issuer_key(&CardKey::new(*store.card_issuer_key(&card_id)))
            .unwrap();
        store
            .save_chip(&card_id, &chip.to_bytes().unwrap(), record.chip_version)
            .await
            .unwrap();
        store.close().await;
    });
    let error = fails(pad("pin", "passport"));
    assert!(
        error.contains("pin: expected one of auth, sign, residence, support"),
        "{error}"
    );
    let error = fails(pad("auth", "pension-book"));
    assert!(error.contains("documents"), "{error}");
    let code = ok(pad("sign", "passport"));
    assert_eq!(code.trim().len(), 8, "{code}");

    // No new PIN was typed on the pad yet, and there is no reader here: refused
    // cleanly either way, nothing recorded.
    let error = fails(maina(
        data,
        &[
            "card",
            "reset-pin",
            &card_id,
            "--pin",
            "sign",
            "--document",
            "passport",
            "--reader",
            "no such reader",
        ],
    ));
    assert!(
        error.contains("reader") || error.contains("PC/SC"),
        "{error}"
    );
}
