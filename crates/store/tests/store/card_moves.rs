//! The card and the registry's changes (issue 13, items 5–7): the notes panel is
//! written in the change's transaction; moving with the card, continued use, the
//! voiding job; departure, death and the end of a period of stay.

use super::{admin, backends, foreign, japanese, open, raw_execute, today};
use chrono::{Days, NaiveDate};
use maina_core::card::moving::{MoveIn, MoveOut, VoidReason};
use maina_core::card::{NoteKind, NotesPanel};
use maina_core::person::{Address, Name};
use maina_core::resident::{RegistrationForm, ResidentEvent};
use maina_store::{NewCertificate, Store, StoreError};

const CARD: &str = "00000000000000C1";

fn certificate(serial: &str, ca: &str) -> NewCertificate {
    NewCertificate {
        serial: serial.into(),
        ca: ca.into(),
        not_before: 1_700_000_000,
        not_after: 4_000_000_000,
        der: vec![1, 2, 3],
    }
}

/// A resident registered from `form` with an active card `CARD` carrying both
/// certificates (`A1` auth, `S1` sign); answers the resident's key.
async fn holder(store: &Store, form: RegistrationForm) -> u64 {
    let registered = store
        .register(form.parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    store
        .put_card(
            CARD,
            Some(registered.resident_key),
            b"chip",
            &[certificate("A1", "auth"), certificate("S1", "sign")],
            &admin("test"),
        )
        .await
        .unwrap();
    registered.resident_key
}

async fn kinds(store: &Store) -> Vec<(String, String)> {
    store
        .card_history(CARD)
        .await
        .unwrap()
        .into_iter()
        .map(|event| (event.kind, event.reason))
        .collect()
}

fn has(events: &[(String, String)], kind: &str, reason: &str) -> bool {
    events.iter().any(|(k, r)| k == kind && r == reason)
}

async fn reason(store: &Store, serial: &str) -> Option<String> {
    store.certificate(serial).await.unwrap().0.reason
}

fn day(offset: u64) -> NaiveDate {
    today().checked_add_days(Days::new(offset)).unwrap()
}

#[tokio::test]
async fn registry_changes_write_the_notes_panel_in_their_transaction() {
    for backend in backends("cardnotes").await {
        let store = open(&backend.url).await;
        let key = holder(&store, japanese("山田")).await;
        store
            .apply(
                key,
                ResidentEvent::AddressChanged {
                    date: today(),
                    address: Address::parse("東京都千代田区丸の内2-2").unwrap(),
                },
                &admin("registrar"),
            )
            .await
            .unwrap();
        let name = store
            .resident(key)
            .await
            .unwrap()
            .record
            .person
            .name
            .changed(&maina_core::person::NameChange {
                family_name: Some("佐藤".into()),
                family_kana: Some("サトウ".into()),
                ..Default::default()
            })
            .unwrap();
        store
            .apply(
                key,
                ResidentEvent::Renamed {
                    date: today(),
                    name,
                },
                &admin("registrar"),
            )
            .await
            .unwrap();
        let panel = store.card_notes(CARD).await.unwrap();
        let entries: Vec<_> = panel
            .entries()
            .iter()
            .map(|e| (e.kind, e.text.as_str()))
            .collect();
        assert_eq!(
            entries,
            [
                (NoteKind::Address, "東京都千代田区丸の内2-2"),
                (NoteKind::Name, "佐藤 花子")
            ],
            "{}",
            backend.name
        );
        assert_eq!(panel.printed_address(), Some("東京都千代田区千代田1-1"));
        // As the bureau printed it (`Name`'s display, as `cards/manufacture.rs` prints the face).
        assert_eq!(panel.printed_name(), Some("山田 花子 (ヤマダ ハナコ)"));
        let events = kinds(&store).await;
        assert!(has(&events, "notes-written", "address"), "{events:?}");
        assert!(has(&events, "notes-written", "name"));
        assert!(has(&events, "certificates-revoked", "facts-changed"));
        assert_eq!(reason(&store, "S1").await.as_deref(), Some("facts-changed"));
        assert_eq!(reason(&store, "A1").await, None);

        // A refused change writes nothing on the card.
        let refused = store
            .apply(
                key,
                ResidentEvent::AddressChanged {
                    date: today(),
                    address: Address::parse("東京都千代田区丸の内2-2").unwrap(),
                },
                &admin("registrar"),
            )
            .await;
        assert!(matches!(refused, Err(StoreError::Rejected(_))));
        assert_eq!(store.card_notes(CARD).await.unwrap(), panel);
        assert_eq!(kinds(&store).await, events);

        // Until the panel is full; then the card must be reissued.
        for i in 0..NotesPanel::LINES {
            let address = format!(
                "東京都千代田区丸の内{}丁目長い長い長い建物の名前{i}号室",
                i + 3
            );
            store
                .apply(
                    key,
                    ResidentEvent::AddressChanged {
                        date: today(),
                        address: Address::parse(&address).unwrap(),
                    },
                    &admin("registrar"),
                )
                .await
                .unwrap();
        }
        let full = store.card_notes(CARD).await.unwrap();
        assert!(full.is_full(), "{}", backend.name);
        assert!(full.lines_used() <= NotesPanel::LINES);
        assert!(has(&kinds(&store).await, "notes-written", "panel-full"));
    }
}

#[tokio::test]
async fn a_move_with_the_card_keeps_it_until_continued_use() {
    for backend in backends("cardmove").await {
        let store = open(&backend.url).await;
        let key = holder(&store, japanese("山田")).await;
        let (chiyoda, sapporo) = ("131016".parse().unwrap(), "011002".parse().unwrap());
        let out = MoveOut::notify(chiyoda, sapporo, day(2), today()).unwrap();
        let pending = store
            .register_move_out(CARD, &out, &admin("registrar"), 1)
            .await
            .unwrap();
        assert!(pending.awaiting_move_in);
        assert_eq!(pending.due_on, day(32));
        // Still a Chiyoda resident until the move-in.
        assert_eq!(
            store.resident(key).await.unwrap().record.municipality,
            chiyoda
        );
        let sapporo_address = Address::parse("北海道札幌市中央区北1条西2丁目").unwrap();
        let outcome = store
            .move_in_with_card(
                CARD,
                day(2),
                sapporo_address.clone(),
                &admin("sapporo"),
                day(5),
            )
            .await
            .unwrap();
        assert_eq!(
            outcome,
            MoveIn::Kept {
                continued_use_by: day(95)
            },
            "{}",
            backend.name
        );
        let resident = store.resident(key).await.unwrap();
        assert_eq!(resident.record.municipality, sapporo);
        assert_eq!(resident.record.address, sapporo_address);
        let events = kinds(&store).await;
        for (kind, why) in [
            ("moved-out", "with-card"),
            ("moved-in", "with-card"),
            ("notes-written", "address"),
            ("certificates-revoked", "facts-changed"),
        ] {
            assert!(has(&events, kind, why), "{kind} in {events:?}");
        }
        // Too late: refused, nothing changed.
        let late = store
            .confirm_continued_use(CARD, &admin("sapporo"), 2, day(96))
            .await
            .unwrap_err();
        assert_eq!(
            late.to_string(),
            format!(
                "the continued-use deadline passed on {}: the card is void",
                day(95)
            )
        );
        assert!(store.card_move(CARD).await.unwrap().is_some());
        store
            .confirm_continued_use(CARD, &admin("sapporo"), 3, day(60))
            .await
            .unwrap();
        assert_eq!(store.card_move(CARD).await.unwrap(), None);
        assert!(has(&kinds(&store).await, "continued-use", ""));
        assert_eq!(store.card_record(CARD).await.unwrap().status, "active");
        // Nothing more is due.
        assert!(matches!(
            store
                .confirm_continued_use(CARD, &admin("sapporo"), 4, day(61))
                .await,
            Err(StoreError::Illegal(_))
        ));
    }
}

#[tokio::test]
async fn a_late_move_in_or_a_missed_deadline_voids_the_card() {
    for backend in backends("cardvoid").await {
        let store = open(&backend.url).await;
        let key = holder(&store, japanese("山田")).await;
        let (chiyoda, sapporo) = ("131016".parse().unwrap(), "011002".parse().unwrap());
        let out = MoveOut::notify(chiyoda, sapporo, today(), today()).unwrap();
        store
            .register_move_out(CARD, &out, &admin("registrar"), 1)
            .await
            .unwrap();
        // Within 14 days of the move, but 31 days after the planned date.
        let outcome = store
            .move_in_with_card(
                CARD,
                day(20),
                Address::parse("北海道札幌市中央区北1条西2丁目").unwrap(),
                &admin("sapporo"),
                day(31),
            )
            .await
            .unwrap();
        assert_eq!(outcome, MoveIn::Voided(VoidReason::LateMoveIn));
        // The move is registered all the same; the card is void.
        assert_eq!(
            store.resident(key).await.unwrap().record.municipality,
            sapporo,
            "{}",
            backend.name
        );
        assert_eq!(store.card_record(CARD).await.unwrap().status, "revoked");
        assert!(has(&kinds(&store).await, "abolished", "move-in-late"));
        assert_eq!(reason(&store, "A1").await.as_deref(), Some("card-ended"));
        assert_eq!(store.card_move(CARD).await.unwrap(), None);
    }
    for backend in backends("cardvoidjob").await {
        let store = open(&backend.url).await;
        let key = holder(&store, japanese("山田")).await;
        // A move with a paper certificate: continued use is due all the same.
        store
            .apply(
                key,
                ResidentEvent::Moved {
                    date: today(),
                    municipality: "011002".parse().unwrap(),
                    address: Address::parse("北海道札幌市中央区北1条西2丁目").unwrap(),
                },
                &admin("registrar"),
            )
            .await
            .unwrap();
        let pending = store.card_move(CARD).await.unwrap().unwrap();
        assert!(!pending.awaiting_move_in);
        assert!(has(
            &kinds(&store).await,
            "moved-in",
            "transfer-certificate"
        ));
        let job = admin("card-endings");
        assert_eq!(
            store
                .void_overdue_moves(&job, 1, pending.due_on)
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.card_record(CARD).await.unwrap().status, "active");
        let after = pending.due_on.checked_add_days(Days::new(1)).unwrap();
        assert_eq!(store.void_overdue_moves(&job, 2, after).await.unwrap(), 1);
        assert_eq!(
            store.card_record(CARD).await.unwrap().status,
            "revoked",
            "{}",
            backend.name
        );
        assert!(has(
            &kinds(&store).await,
            "abolished",
            "continued-use-missed"
        ));
        assert_eq!(store.void_overdue_moves(&job, 3, after).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn departure_death_and_the_end_of_a_stay() {
    for backend in backends("carddepart").await {
        let store = open(&backend.url).await;
        // A Japanese national keeps the card; both certificates are revoked.
        let key = holder(&store, japanese("山田")).await;
        store
            .apply(
                key,
                ResidentEvent::Departed { date: day(3) },
                &admin("registrar"),
            )
            .await
            .unwrap();
        assert_eq!(store.card_record(CARD).await.unwrap().status, "active");
        assert_eq!(reason(&store, "A1").await.as_deref(), Some("departed"));
        assert_eq!(reason(&store, "S1").await.as_deref(), Some("departed"));
        let panel = store.card_notes(CARD).await.unwrap();
        assert_eq!(panel.entries().len(), 1, "{}", backend.name);
        assert_eq!(panel.entries()[0].kind, NoteKind::Departure);
        assert_eq!(panel.entries()[0].date, day(3));
        let events = kinds(&store).await;
        assert!(has(&events, "notes-written", "departure"));
        assert!(has(&events, "certificates-revoked", "departed"));
    }
    for backend in backends("carddepartforeign").await {
        let store = open(&backend.url).await;
        let key = holder(&store, foreign("C7654321")).await;
        store
            .apply(
                key,
                ResidentEvent::Departed { date: day(3) },
                &admin("registrar"),
            )
            .await
            .unwrap();
        assert_eq!(store.card_record(CARD).await.unwrap().status, "revoked");
        assert_eq!(reason(&store, "A1").await.as_deref(), Some("departed"));
        assert!(has(&kinds(&store).await, "abolished", "departed"));
        assert!(store.card_notes(CARD).await.unwrap().entries().is_empty());
    }
    for backend in backends("cardstay").await {
        let store = open(&backend.url).await;
        let key = holder(&store, foreign("C7654321")).await;
        let Name::Foreign { .. } = store.resident(key).await.unwrap().record.person.name else {
            panic!("a foreign national");
        };
        let stay_until = match store.resident(key).await.unwrap().record.person.citizenship {
            maina_core::person::Citizenship::Foreign { stay_until, .. } => stay_until.unwrap(),
            maina_core::person::Citizenship::Japanese => unreachable!(),
        };
        // The card's expiry is capped at the stay.
        raw_execute(
            &backend,
            &format!("UPDATE cards SET expires_on = '{stay_until}' WHERE id = '{CARD}'"),
        )
        .await;
        let job = admin("card-endings");
        assert_eq!(
            store.abolish_stay_ended(&job, 1, stay_until).await.unwrap(),
            0
        );
        let after = stay_until.checked_add_days(Days::new(1)).unwrap();
        assert_eq!(store.abolish_stay_ended(&job, 2, after).await.unwrap(), 1);
        assert_eq!(store.card_record(CARD).await.unwrap().status, "revoked");
        assert!(has(&kinds(&store).await, "abolished", "stay-ended"));
        assert_eq!(reason(&store, "S1").await.as_deref(), Some("card-ended"));
    }
    for backend in backends("cardstayjapanese").await {
        // A Japanese national's expired card is not the stay's business.
        let store = open(&backend.url).await;
        holder(&store, japanese("山田")).await;
        raw_execute(
            &backend,
            &format!("UPDATE cards SET expires_on = '2027-01-01' WHERE id = '{CARD}'"),
        )
        .await;
        let far = NaiveDate::from_ymd_opt(2040, 1, 1).unwrap();
        assert_eq!(
            store
                .abolish_stay_ended(&admin("card-endings"), 1, far)
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.card_record(CARD).await.unwrap().status, "active");
    }
}
