//! The card's path through the real binary: the bureau's job (killed and run again),
//! shipments received only as listed, issue notices printed.

use super::*;

/// `(id, in transit, card numbers)` of each shipment `maina pickup shipments` lists.
fn shipments(data: &Path) -> Vec<(String, bool, Vec<String>)> {
    ok(maina(
        data,
        &["pickup", "shipments", "--municipality", "131016"],
    ))
    .lines()
    .filter_map(|line| {
        let rest = line.strip_prefix("shipment ")?;
        let (id, rest) = rest.split_once(':')?;
        let (_, numbers) = rest.rsplit_once(": ")?;
        Some((
            id.to_owned(),
            rest.contains("in transit"),
            numbers.split_whitespace().map(str::to_owned).collect(),
        ))
    })
    .collect()
}

#[test]
fn cards_are_made_once_received_as_listed_and_notified() {
    let dir = TestDir::new();
    let data = dir.path().join("demo");
    let out = ok(maina(&data, &["demo", "--no-serve", "--residents", "20"]));
    assert!(out.contains("notice number"), "{out}");
    // The demo leaves two applications approved and waiting for their cards. A
    // run stopped after one card, then a second run: each card made once.
    let first = ok(maina(&data, &["card", "manufacture", "--limit", "1"]));
    assert!(first.contains("1 card(s) made in 1 shipment(s)"), "{first}");
    let second = ok(maina(&data, &["card", "manufacture", "--batch", "5"]));
    assert!(
        second.contains("1 card(s) made in 1 shipment(s)"),
        "{second}"
    );
    let third = ok(maina(&data, &["card", "manufacture"]));
    assert!(third.contains("0 card(s) made"), "{third}");

    let listed = shipments(&data);
    assert_eq!(listed.len(), 4, "{listed:?}");
    let in_transit: Vec<_> = listed.iter().filter(|(_, transit, _)| *transit).collect();
    assert_eq!(in_transit.len(), 3, "{listed:?}");
    let (id, _, numbers) = in_transit[0];
    let (_, _, others) = in_transit[1];
    // Counted wrong: the shipment's card is missing and another is extra. Refused,
    // both named, nothing received.
    let refused = fails(maina_in(
        &data,
        &["pickup", "receive", id],
        &others.join("\n"),
    ));
    assert!(
        refused.contains(&numbers[0])
            && refused.contains(&others[0])
            && refused.contains("nothing was received"),
        "{refused}"
    );
    assert!(fails(maina_in(&data, &["pickup", "receive", id], "12345")).contains("counted line 1"));
    assert_eq!(shipments(&data).iter().filter(|(_, t, _)| *t).count(), 3);
    let received = ok(maina_in(
        &data,
        &["pickup", "receive", id],
        &numbers.join("\n"),
    ));
    assert!(received.contains("received"), "{received}");
    // Received once.
    assert!(fails(maina_in(
        &data,
        &["pickup", "receive", id],
        &numbers.join("\n")
    ))
    .contains("already received"));

    let out_dir = dir.path().join("notices");
    let notices = || {
        ok(maina(
            &data,
            &[
                "pickup",
                "notices",
                "--municipality",
                "131016",
                "--out",
                out_dir.to_str().unwrap(),
                "--public-url",
                "https://maina.example.jp",
            ],
        ))
    };
    let printed = notices();
    assert!(printed.contains("1 notice(s) written"), "{printed}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1);
    // Nothing left to print.
    let again = notices();
    assert!(again.contains("0 notice(s) written"), "{again}");
    // Nothing is due yet for the never-collected job.
    assert!(
        ok(maina(&data, &["pickup", "expire"])).contains("0 reminder(s) sent, 0 card(s) destroyed")
    );
    let audit = ok(maina(&data, &["audit", "show"]));
    assert!(
        audit.contains("card.manufacture")
            && audit.contains("card.receive")
            && audit.contains("pickup.notice"),
        "{audit}"
    );
}
