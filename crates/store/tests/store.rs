//! The store's integration suite. Every test runs against SQLite (a temporary file)
//! and, when MAINA_TEST_POSTGRES_URL is set (as `.ci/run` sets it), against a fresh
//! PostgreSQL database created for that test.
// Tests may panic: a failed assertion is how they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::NaiveDate;
use maina_core::card::RevocationReason;
use maina_core::officer::Actor;
use maina_core::person::{Address, Name};
use maina_core::resident::{NumberChangeReason, RegistrationForm, ResidentEvent, ResidentStatus};
use maina_store::{Keys, Municipality, NumberStatus, Store, StoreError};

#[path = "store/throttles.rs"]
mod throttles;

#[path = "store/appointments.rs"]
mod appointments;

fn admin(name: &str) -> Actor {
    Actor::administrator(name, "test")
}
use sqlx::Connection;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn japanese(family: &str) -> RegistrationForm {
    RegistrationForm {
        municipality: Some("131016".into()),
        reason: Some("move-in-from-abroad".into()),
        family_name: Some(family.into()),
        given_name: Some("花子".into()),
        family_kana: Some("ヤマダ".into()),
        given_kana: Some("ハナコ".into()),
        birth_date: Some("1990-04-01".into()),
        sex: Some("female".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        ..Default::default()
    }
}

fn foreign(passport: &str) -> RegistrationForm {
    RegistrationForm {
        municipality: Some("131016".into()),
        reason: Some("move-in-from-abroad".into()),
        alphabet_name: Some("NGUYEN VAN AN".into()),
        birth_date: Some("1998-02-03".into()),
        sex: Some("male".into()),
        address: Some("東京都千代田区神田1-2-3".into()),
        nationality: Some("VN".into()),
        passport: Some(passport.into()),
        residence_status: Some("student".into()),
        period_of_stay: Some("2y".into()),
        ..Default::default()
    }
}

struct Backend {
    name: &'static str,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The back ends every test runs against.
async fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![Backend {
        name: "sqlite",
        url: maina_store::sqlite_url(&dir.path().join("maina.sqlite3")),
        _dir: Some(dir),
    }];
    if let Ok(base) = std::env::var("MAINA_TEST_POSTGRES_URL") {
        let database = format!("maina_test_{test}");
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {database}"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        backends.push(Backend {
            name: "postgres",
            url: format!("{prefix}/{database}"),
            _dir: None,
        });
    }
    backends
}

async fn open(url: &str) -> Store {
    let store = Store::open(url, &Keys::from_bytes([42u8; 32]))
        .await
        .unwrap();
    store
        .put_municipality(&Municipality {
            code: "131016".parse().unwrap(),
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await
        .unwrap();
    store
        .put_municipality(&Municipality {
            code: "011002".parse().unwrap(),
            name_ja: "札幌市".into(),
            name_en: "Sapporo".into(),
        })
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn register_show_and_look_up_by_code_and_number() {
    for backend in backends("register").await {
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        assert!(!registered.returned);
        let by_code = store
            .resident_by_code(&registered.resident_code)
            .await
            .unwrap();
        assert_eq!(by_code.my_number, registered.my_number, "{}", backend.name);
        assert_eq!(by_code.status, ResidentStatus::Active);
        let by_number = store
            .resident_by_number(&registered.my_number)
            .await
            .unwrap();
        assert_eq!(by_number.resident_key, registered.resident_key);
        assert_eq!(store.resident_count().await.unwrap(), 1);
        // Serialised, a view and a registration show the number masked only: a clear
        // number reaches JSON only through an audited reveal.
        let digits = registered.my_number.as_digits();
        for json in [
            serde_json::to_string(&by_code).unwrap(),
            serde_json::to_string(&registered).unwrap(),
        ] {
            assert!(!json.contains(&digits), "{json}");
            assert!(json.contains(&registered.my_number.masked()), "{json}");
        }
        // An unissued but valid number is reported as such.
        let other = store
            .authority()
            .my_number(registered.resident_key + 1000)
            .unwrap();
        assert_eq!(
            store.lookup_number(&other).await.unwrap(),
            NumberStatus::NotIssued
        );
    }
}

#[tokio::test]
async fn the_database_holds_no_number_and_no_name_in_clear() {
    for backend in backends("clear").await {
        if backend.name != "sqlite" {
            continue;
        }
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("鈴木").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        store.close().await;
        let path = backend
            .url
            .trim_start_matches("sqlite://")
            .trim_end_matches("?mode=rwc");
        let mut bytes = std::fs::read(path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        let haystack = String::from_utf8_lossy(&bytes);
        assert!(!haystack.contains(&registered.my_number.as_digits()));
        assert!(!haystack.contains("鈴木"));
        assert!(!haystack.contains("1990-04-01"));
    }
}

#[tokio::test]
async fn changes_are_events_and_history_is_kept() {
    for backend in backends("history").await {
        let store = open(&backend.url).await;
        let r = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let key = r.resident_key;
        store
            .apply(
                key,
                ResidentEvent::AddressChanged {
                    date: today(),
                    address: Address::parse("千代田2-2").unwrap(),
                },
                &admin("officer-1"),
            )
            .await
            .unwrap();
        store
            .apply(
                key,
                ResidentEvent::Moved {
                    date: today(),
                    municipality: "011002".parse().unwrap(),
                    address: Address::parse("札幌市中央区1").unwrap(),
                },
                &admin("officer-2"),
            )
            .await
            .unwrap();
        let renamed = store
            .apply(
                key,
                ResidentEvent::Renamed {
                    date: today(),
                    name: Name::japanese("佐藤", "花子", "サトウ", "ハナコ").unwrap(),
                },
                &admin("officer-2"),
            )
            .await
            .unwrap();
        assert_eq!(renamed.record.municipality.as_digits(), "011002");
        let history = store.history(key).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["registered", "address-changed", "moved", "renamed"],
            "{}",
            backend.name
        );
        assert_eq!(history[2].actor, "officer-2");
        // The registration is still there as it was.
        assert_eq!(
            renamed.registration.address.as_str(),
            "東京都千代田区千代田1-1"
        );

        // A move to an unknown municipality is refused and changes nothing.
        let err = store
            .apply(
                key,
                ResidentEvent::Moved {
                    date: today(),
                    municipality: "131130".parse().unwrap(),
                    address: Address::parse("x").unwrap(),
                },
                &admin("o"),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("municipality"), "{err}");
        assert_eq!(store.history(key).await.unwrap().len(), 4);

        let dead = store
            .apply(key, ResidentEvent::Died { date: today() }, &admin("o"))
            .await
            .unwrap();
        assert_eq!(dead.status, ResidentStatus::Deceased);
        let err = store
            .apply(key, ResidentEvent::Departed { date: today() }, &admin("o"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Rejected(_)), "{err}");
        assert_eq!(store.history(key).await.unwrap().len(), 5);
    }
}

#[tokio::test]
async fn number_change_retires_the_old_number_for_good() {
    for backend in backends("numberchange").await {
        let store = open(&backend.url).await;
        let r = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let (old, new) = store
            .change_number(
                r.resident_key,
                today(),
                NumberChangeReason::parse("leaked by an employer").unwrap(),
                &admin("supervisor"),
            )
            .await
            .unwrap();
        assert_eq!(old, r.my_number);
        assert_ne!(old, new);
        match store.lookup_number(&old).await.unwrap() {
            NumberStatus::Retired {
                resident_key,
                replaced_by,
                ..
            } => {
                assert_eq!(resident_key, r.resident_key);
                assert_eq!(replaced_by, new);
            }
            other => panic!("{other:?} on {}", backend.name),
        }
        assert_eq!(
            store.lookup_number(&new).await.unwrap(),
            NumberStatus::Active {
                resident_key: r.resident_key
            }
        );
        assert_eq!(store.resident(r.resident_key).await.unwrap().my_number, new);
        assert!(store.resident_by_number(&old).await.is_err());
        // A second change retires the replacement too.
        let (old2, new2) = store
            .change_number(
                r.resident_key,
                today(),
                NumberChangeReason::parse("again").unwrap(),
                &admin("supervisor"),
            )
            .await
            .unwrap();
        assert_eq!(old2, new);
        assert!(matches!(
            store.lookup_number(&new).await.unwrap(),
            NumberStatus::Retired { .. }
        ));
        assert_eq!(
            store.resident_by_number(&new2).await.unwrap().resident_key,
            r.resident_key
        );
        let kinds: Vec<String> = store
            .history(r.resident_key)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.kind)
            .collect();
        assert_eq!(kinds, ["registered", "number-changed", "number-changed"]);
    }
}

#[tokio::test]
async fn returning_residents_get_their_number_back() {
    for backend in backends("returning").await {
        let store = open(&backend.url).await;
        // A foreign national leaves and comes back: matched on nationality, passport, birth date.
        let first = store
            .register(foreign("C1234567").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        store
            .apply(
                first.resident_key,
                ResidentEvent::Departed { date: today() },
                &admin("t"),
            )
            .await
            .unwrap();
        let again = store
            .register(foreign("C1234567").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        assert!(again.returned, "{}", backend.name);
        assert_eq!(again.my_number, first.my_number);
        assert_eq!(store.resident_count().await.unwrap(), 1);
        // Another passport is another person.
        let other = store
            .register(foreign("D7654321").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        assert!(!other.returned);

        // A Japanese national with the earlier resident record code.
        let jp = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        store
            .apply(
                jp.resident_key,
                ResidentEvent::Departed { date: today() },
                &admin("t"),
            )
            .await
            .unwrap();
        let mut form = japanese("山田");
        form.prior_resident_code = Some(jp.resident_code.as_digits());
        let back = store
            .register(form.parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        assert!(back.returned);
        assert_eq!(back.my_number, jp.my_number);
        // The wrong name with that code is refused, and nothing is written.
        store
            .apply(
                jp.resident_key,
                ResidentEvent::Departed { date: today() },
                &admin("t"),
            )
            .await
            .unwrap();
        let mut form = japanese("田中");
        form.prior_resident_code = Some(jp.resident_code.as_digits());
        let count = store.resident_count().await.unwrap();
        let err = store
            .register(form.parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("prior_resident_code"), "{err}");
        assert_eq!(store.resident_count().await.unwrap(), count);
    }
}

#[tokio::test]
async fn unknown_municipality_rejects_the_row_only() {
    for backend in backends("batch").await {
        let store = open(&backend.url).await;
        let mut bad = japanese("山田");
        bad.municipality = Some("131130".into());
        let rows = vec![
            (2, japanese("山田").parse(today()).unwrap()),
            (3, bad.parse(today()).unwrap()),
        ];
        let keys = store.reserve_resident_keys(2).await.unwrap();
        let sealed = store.seal_registrations(keys, rows).unwrap();
        let outcomes = store
            .insert_sealed(sealed, None, &admin("t"))
            .await
            .unwrap();
        assert!(outcomes[0].is_ok());
        let rejection = outcomes[1].as_ref().unwrap_err();
        assert_eq!(
            (rejection.line, rejection.field.as_str()),
            (3, "municipality")
        );
        assert_eq!(store.resident_count().await.unwrap(), 1, "{}", backend.name);
    }
}

#[tokio::test]
async fn another_key_file_is_refused() {
    for backend in backends("wrongkey").await {
        drop(open(&backend.url).await);
        let err = Store::open(&backend.url, &Keys::from_bytes([7u8; 32]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::WrongKey { .. }),
            "{err} on {}",
            backend.name
        );
    }
}

#[tokio::test]
async fn audit_trail_is_a_verifiable_chain() {
    for backend in backends("audit").await {
        let store = open(&backend.url).await;
        let r = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        store
            .audit(
                &admin("officer-9"),
                "reveal-my-number",
                Some(r.resident_key),
            )
            .await
            .unwrap();
        store
            .apply(
                r.resident_key,
                ResidentEvent::Departed { date: today() },
                &admin("officer-9"),
            )
            .await
            .unwrap();
        let events = store.audit_events(Some(r.resident_key)).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["register", "reveal-my-number", "departed"],
            "{}",
            backend.name
        );
        let report = store.verify_audit().await.unwrap();
        assert_eq!(report.problem, None);
        assert!(report.events >= 3);
    }
}

/// Edits, removals and reorderings of the audit trail are found by `verify_audit`.
#[tokio::test]
async fn audit_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maina.sqlite3");
    let url = maina_store::sqlite_url(&path);
    let tamper = |sql: &str| {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
    };
    let fresh = || async {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
        let _ = std::fs::remove_file(path.with_extension("sqlite3-shm"));
        let store = open(&url).await;
        for i in 0..5 {
            store
                .audit(&admin("officer"), &format!("read-{i}"), Some(i))
                .await
                .unwrap();
        }
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
        store
    };
    let cases = [
        ("UPDATE audit_events SET purpose = 'nothing to see' WHERE seq = 2", "event 2 was altered"),
        ("DELETE FROM audit_events WHERE seq = 3", "event 3 is missing"),
        (
            "UPDATE audit_events SET seq = 100 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 3; \
             UPDATE audit_events SET seq = 3 WHERE seq = 100",
            "event 2 does not follow event 1",
        ),
        ("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)", "removed at the end"),
    ];
    for (sql, expected) in cases {
        let store = fresh().await;
        store.close().await;
        drop(store);
        tamper(sql);
        let store = Store::open(&url, &Keys::from_bytes([42u8; 32]))
            .await
            .unwrap();
        let problem = store
            .verify_audit()
            .await
            .unwrap()
            .problem
            .unwrap_or_default();
        assert!(problem.contains(expected), "{sql}: {problem}");
    }
}

#[tokio::test]
async fn the_same_foreign_national_is_not_registered_twice() {
    for backend in backends("duplicates").await {
        let store = open(&backend.url).await;
        let first = store
            .register(foreign("C1234567").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        let err = store
            .register(foreign("C1234567").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("no earlier resident record can be taken up"),
            "{err} on {}",
            backend.name
        );
        // Twice in one batch: the second row is refused.
        let rows = vec![
            (2, foreign("E1").parse(today()).unwrap()),
            (3, foreign("E1").parse(today()).unwrap()),
        ];
        let keys = store.reserve_resident_keys(2).await.unwrap();
        let outcomes = store
            .insert_sealed(
                store.seal_registrations(keys, rows).unwrap(),
                None,
                &admin("t"),
            )
            .await
            .unwrap();
        assert!(outcomes[0].is_ok());
        assert_eq!(outcomes[1].as_ref().unwrap_err().field, "passport");
        // Departed, back with a renewed passport and the earlier code: the same record.
        store
            .apply(
                first.resident_key,
                ResidentEvent::Departed { date: today() },
                &admin("t"),
            )
            .await
            .unwrap();
        let mut renewed = foreign("F7777777");
        renewed.prior_resident_code = Some(first.resident_code.as_digits());
        let back = store
            .register(renewed.parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        assert!(back.returned);
        assert_eq!(back.my_number, first.my_number);
        assert_eq!(store.resident_count().await.unwrap(), 2);
    }
}

#[tokio::test]
async fn search_by_birth_date_and_name_within_a_municipality() {
    for backend in backends("search").await {
        let store = open(&backend.url).await;
        let yamada = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        store
            .register(japanese("田中").parse(today()).unwrap(), &admin("t"))
            .await
            .unwrap();
        let chiyoda = "131016".parse().unwrap();
        let born = NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
        let found = store.search(&chiyoda, born, "山田", 10).await.unwrap();
        assert_eq!(found.len(), 1, "{}", backend.name);
        assert_eq!(found[0].resident_key, yamada.resident_key);
        // Kana in either script, and no name: everyone born that day.
        assert_eq!(
            store
                .search(&chiyoda, born, "はなこ", 10)
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(store.search(&chiyoda, born, "", 10).await.unwrap().len(), 2);
        assert!(store
            .search(&chiyoda, born.succ_opt().unwrap(), "", 10)
            .await
            .unwrap()
            .is_empty());
        // After a move the resident is found in the new municipality only.
        store
            .apply(
                yamada.resident_key,
                ResidentEvent::Moved {
                    date: today(),
                    municipality: "011002".parse().unwrap(),
                    address: Address::parse("札幌").unwrap(),
                },
                &admin("t"),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .search(&chiyoda, born, "山田", 10)
                .await
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            store
                .search(&"011002".parse().unwrap(), born, "山田", 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn cards_and_certificates_are_kept_sealed_and_revoked_together() {
    for backend in backends("cards").await {
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let certificate = |serial: &str, ca: &str| maina_store::NewCertificate {
            serial: serial.into(),
            ca: ca.into(),
            not_before: 1_700_000_000,
            not_after: 4_000_000_000,
            der: format!("certificate of 山田 {serial}").into_bytes(),
        };
        let chip = b"chip content with 123456789018".to_vec();
        store
            .put_card(
                "0123456789ABCDEF",
                Some(registered.resident_key),
                &chip,
                &[certificate("AA01", "auth"), certificate("BB02", "sign")],
                &admin("test"),
            )
            .await
            .unwrap();
        // The same card id twice is refused, and leaves nothing behind.
        assert!(store
            .put_card(
                "0123456789ABCDEF",
                None,
                &chip,
                &[certificate("CC03", "auth")],
                &admin("test")
            )
            .await
            .is_err());
        assert!(store.certificate("CC03").await.is_err(), "{}", backend.name);

        let (record, opened) = store.card("0123456789ABCDEF").await.unwrap();
        assert_eq!(opened, chip);
        assert_eq!(record.resident_key, Some(registered.resident_key));
        assert_eq!(record.status, "active");
        // A save names the version it read: a second process that read the same
        // version (two `maina card attach` of one card) cannot save over the first.
        let read = record.chip_version;
        assert_eq!(
            store
                .save_chip("0123456789ABCDEF", b"changed", read)
                .await
                .unwrap(),
            read + 1
        );
        assert!(matches!(
            store.save_chip("0123456789ABCDEF", b"stale", read).await,
            Err(StoreError::Conflict)
        ));
        let (reread, opened) = store.card("0123456789ABCDEF").await.unwrap();
        assert_eq!(
            (opened.as_slice(), reread.chip_version),
            (&b"changed"[..], read + 1)
        );
        assert!(matches!(
            store.save_chip("FFFFFFFFFFFFFFFF", b"x", 0).await,
            Err(StoreError::NotFound("card"))
        ));
        assert_eq!(store.cards().await.unwrap().len(), 1);
        let (cert, der) = store.certificate("BB02").await.unwrap();
        assert_eq!((cert.ca.as_str(), cert.revoked_at), ("sign", None));
        assert_eq!(der, "certificate of 山田 BB02".as_bytes());
        assert!(store
            .certificate_status("auth", "BB02")
            .await
            .unwrap()
            .is_none());
        assert!(store.revoked_certificates("auth").await.unwrap().is_empty());

        let revoked = store
            .revoke_card(
                "0123456789ABCDEF",
                RevocationReason::LostCard,
                &admin("test"),
            )
            .await
            .unwrap();
        assert_eq!(revoked.len(), 2);
        // An abolished card cannot be abolished again: refused, naming why, and
        // nothing more is revoked (the reasons stay the first ones).
        let again = store
            .revoke_card("0123456789ABCDEF", RevocationReason::Death, &admin("test"))
            .await
            .unwrap_err();
        assert_eq!(again.to_string(), "the card is revoked: it cannot abolish");
        let history = store.card_history("0123456789ABCDEF").await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["activated", "abolished"]);
        assert_eq!(history[1].reason, "lost-card");
        let listed = store.revoked_certificates("auth").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].0.as_str(), listed[0].2.as_str()),
            ("AA01", "lost-card")
        );
        let status = store
            .certificate_status("sign", "BB02")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.reason.as_deref(), Some("lost-card"));
        assert_eq!(
            store.card("0123456789ABCDEF").await.unwrap().0.status,
            "revoked"
        );
        // Each revocation left its authorities' stored CRLs stale; storing the
        // next CRL needs the number after the stored one (one of two racing wins).
        let crl = store.stored_crl("auth").await.unwrap();
        let base = || store.crl_document("auth", maina_store::CrlDocument::Base);
        assert_eq!((crl.number, base().await.unwrap()), (0, None));
        assert!(crl.revision > crl.built_revision, "{crl:?}");
        let next = maina_store::NewCrl {
            built_revision: crl.revision,
            number: 1,
            this_update: 10,
            next_update: 20,
            der: b"crl 1".to_vec(),
        };
        assert!(store.put_crl("auth", &next).await.unwrap());
        assert!(!store.put_crl("auth", &next).await.unwrap());
        let stored = store.stored_crl("auth").await.unwrap();
        assert_eq!(
            (stored.number, stored.built_revision, base().await.unwrap()),
            (1, crl.revision, Some(b"crl 1".to_vec()))
        );
        assert_eq!(store.crl_revision("auth").await.unwrap(), crl.revision);
        assert_eq!(store.stored_crl("sign").await.unwrap().number, 0);
        // Every step about the holder is in the audit trail.
        let actions: Vec<String> = store
            .audit_events(Some(registered.resident_key))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"card.create".to_string()), "{actions:?}");
        assert!(
            actions.contains(&"card.revoke:lost-card".to_string()),
            "{actions:?}"
        );
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
        // Neither the chip nor the certificates are in the database in clear.
        store.close().await;
        if backend.name == "sqlite" {
            let path = backend.url.trim_start_matches("sqlite://");
            let bytes = std::fs::read(path).unwrap();
            let wal = std::fs::read(format!("{path}-wal")).unwrap_or_default();
            for haystack in [&bytes, &wal] {
                assert!(!haystack.windows(7).any(|w| w == b"changed"));
                assert!(!haystack.windows(14).any(|w| w == b"certificate of"));
            }
        }
    }
}

#[tokio::test]
async fn registry_changes_revoke_what_they_must() {
    for backend in backends("cardevents").await {
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let certificate = |serial: &str, ca: &str| maina_store::NewCertificate {
            serial: serial.into(),
            ca: ca.into(),
            not_before: 1_700_000_000,
            not_after: 4_000_000_000,
            der: vec![1, 2, 3],
        };
        store
            .put_card(
                "00000000000000AA",
                Some(registered.resident_key),
                b"chip",
                &[certificate("A1", "auth"), certificate("B1", "sign")],
                &admin("test"),
            )
            .await
            .unwrap();
        let revoked = |serial: &'static str| {
            let store = store.clone();
            async move { store.certificate(serial).await.unwrap().0.reason }
        };
        // A new address revokes the signature certificate only (it carries the address).
        store
            .apply(
                registered.resident_key,
                ResidentEvent::AddressChanged {
                    date: today(),
                    address: Address::parse("東京都千代田区二番町2").unwrap(),
                },
                &admin("test"),
            )
            .await
            .unwrap();
        assert_eq!(
            revoked("B1").await.as_deref(),
            Some("facts-changed"),
            "{}",
            backend.name
        );
        assert_eq!(revoked("A1").await, None);
        assert_eq!(
            store.card("00000000000000AA").await.unwrap().0.status,
            "active"
        );
        // A death revokes the rest, and the card.
        store
            .apply(
                registered.resident_key,
                ResidentEvent::Died { date: today() },
                &admin("test"),
            )
            .await
            .unwrap();
        assert_eq!(revoked("A1").await.as_deref(), Some("death"));
        assert_eq!(revoked("B1").await.as_deref(), Some("facts-changed"));
        assert_eq!(
            store.card("00000000000000AA").await.unwrap().0.status,
            "revoked"
        );
    }
}

#[tokio::test]
async fn applications_inquiries_and_the_outbox() {
    use maina_core::application::{ApplicationEvent, ApplicationStatus, Channel, ReturnReason};
    use maina_core::{ApplicationFormId, ReceiptNumber};
    for backend in backends("applications").await {
        let store = open(&backend.url).await;
        let registered = store
            .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
            .await
            .unwrap();
        let form = ApplicationFormId::new("131016".parse().unwrap(), 1234567890123456).unwrap();
        let other_form = ApplicationFormId::new("131016".parse().unwrap(), 42).unwrap();
        store
            .put_notice(registered.resident_key, &form, &admin("test"))
            .await
            .unwrap();
        assert_eq!(
            store
                .notice_by_form(&form)
                .await
                .unwrap()
                .unwrap()
                .resident_key,
            registered.resident_key
        );
        assert!(store.notice_by_form(&other_form).await.unwrap().is_none());
        let birth = NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
        let receipt = ReceiptNumber::new(987654321012345).unwrap();
        let new = hanako_application(form, receipt, Channel::Smartphone);
        let mail = |subject: &str| maina_store::Mail {
            to: "hanako@example.jp".into(),
            subject: subject.into(),
            body: "本文".into(),
        };
        let record = store
            .submit_application(&new, &admin("test"), Some(mail("受付")))
            .await
            .unwrap();
        assert_eq!(record.status, ApplicationStatus::Received);
        // The same form twice is refused; an unknown form too. Nothing is left behind.
        assert!(matches!(
            store
                .submit_application(&new, &admin("test"), Some(mail("x")))
                .await,
            Err(StoreError::Duplicate(_))
        ));
        let mut unknown = new.clone();
        unknown.form_id = other_form;
        assert!(matches!(
            store
                .submit_application(&unknown, &admin("test"), None)
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.pending_mail().await.unwrap(), 1, "{}", backend.name);

        // The inquiry: by form ID or receipt number, with the birth date.
        let found = store.inquire(Ok(&form), birth).await.unwrap().unwrap();
        assert_eq!(found.status, ApplicationStatus::Received);
        assert_eq!(
            store
                .inquire(Err(&receipt), birth)
                .await
                .unwrap()
                .unwrap()
                .status,
            ApplicationStatus::Received
        );
        assert_eq!(
            store
                .inquire(Ok(&form), birth.succ_opt().unwrap())
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.inquire(Ok(&other_form), birth).await.unwrap(), None);

        // The state machine, with an e-mail for each change.
        let notify =
            |_: &maina_store::ApplicationRecord, next: ApplicationStatus| Some(mail(next.code()));
        store
            .transition_application(
                record.id,
                &ApplicationEvent::StartReview,
                &admin("bureau"),
                notify,
            )
            .await
            .unwrap();
        let returned = store
            .transition_application(
                record.id,
                &ApplicationEvent::ReturnForCorrection {
                    reason: ReturnReason::PhotoNotConforming,
                },
                &admin("bureau"),
                notify,
            )
            .await
            .unwrap();
        assert_eq!(returned.status, ApplicationStatus::ReturnedForCorrection);
        let refused = store
            .transition_application(
                record.id,
                &ApplicationEvent::Approve,
                &admin("bureau"),
                notify,
            )
            .await;
        assert!(matches!(refused, Err(StoreError::Illegal(_))));
        for event in [
            ApplicationEvent::Resubmit,
            ApplicationEvent::StartReview,
            ApplicationEvent::Approve,
        ] {
            store
                .transition_application(record.id, &event, &admin("bureau"), notify)
                .await
                .unwrap();
        }
        assert_eq!(
            store
                .inquire(Ok(&form), birth)
                .await
                .unwrap()
                .unwrap()
                .status,
            ApplicationStatus::CardIssuanceInProcess
        );
        // Stuck: still in card issuance before a moment in the future.
        assert_eq!(
            store
                .stuck_applications(maina_store::now_micros() + 1)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(store.stuck_applications(0).await.unwrap().is_empty());
        assert_eq!(
            store.application_by_receipt(&receipt).await.unwrap().id,
            record.id
        );

        // The outbox: due mail in order, failures pushed back, sent ones gone.
        let due = store.due_mail(10).await.unwrap();
        assert_eq!(due.len(), 6);
        assert_eq!(due[0].mail.subject, "受付");
        store
            .mail_failed(
                due[0].id,
                "connection refused",
                maina_store::now_micros() + 60_000_000,
            )
            .await
            .unwrap();
        for mail in &due[1..] {
            store.mail_sent(mail.id).await.unwrap();
        }
        assert!(store.due_mail(10).await.unwrap().is_empty());
        assert_eq!(store.pending_mail().await.unwrap(), 1);
        let actions: Vec<String> = store
            .audit_events(Some(registered.resident_key))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.contains(&"application.received:smartphone".to_string()),
            "{actions:?}"
        );
        assert!(
            actions.contains(&"application.approve".to_string()),
            "{actions:?}"
        );
    }
}

/// The first column of a raw query on a back end's database, as bytes.
async fn raw_rows(backend: &Backend, sql: &str) -> Vec<Vec<u8>> {
    if backend.name == "sqlite" {
        let conn = rusqlite::Connection::open(backend.url.trim_start_matches("sqlite://")).unwrap();
        let mut statement = conn.prepare(sql).unwrap();
        let rows = statement
            .query_map([], |row| row.get::<_, Option<Vec<u8>>>(0))
            .unwrap()
            .map(|row| row.unwrap().unwrap_or_default())
            .collect();
        rows
    } else {
        let mut conn = sqlx::PgConnection::connect(&backend.url).await.unwrap();
        let rows: Vec<(Option<Vec<u8>>,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
        rows.into_iter()
            .map(|(blob,)| blob.unwrap_or_default())
            .collect()
    }
}

/// Runs a raw statement on a back end's database.
async fn raw_execute(backend: &Backend, sql: &str) {
    if backend.name == "sqlite" {
        let conn = rusqlite::Connection::open(backend.url.trim_start_matches("sqlite://")).unwrap();
        conn.execute_batch(sql).unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&backend.url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

/// The sealed columns of every table (each filled by [`fill_every_sealed_column`]).
const SEALED_COLUMNS: &[(&str, &str)] = &[
    ("residents", "registration"),
    ("residents", "current"),
    ("resident_events", "event"),
    ("numbers", "retired_reason"),
    ("notices", "form_id"),
    ("applications", "details"),
    ("applications", "photo"),
    ("apply_links", "details"),
    ("outbox", "message"),
    ("cards", "chip"),
    ("cards", "face"),
    ("certificates", "der"),
    ("issue_notices", "details"),
    ("pinpad_sessions", "pins"),
    ("handovers", "checks"),
    ("card_events", "details"),
    ("replacements", "police"),
    ("expiry_letters", "form_id"),
    ("cards", "notes"),
    ("portal_preferences", "email"),
    ("oidc_keys", "private_key"),
    ("oidc_requests", "facts"),
];

/// Writes a value into every sealed column of every table; answers the resident's
/// key.
async fn fill_every_sealed_column(store: &Store) -> u64 {
    use maina_core::application::Channel;
    use maina_core::{ApplicationFormId, ReceiptNumber};
    let registered = store
        .register(japanese("山田").parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    store
        .change_number(
            registered.resident_key,
            today(),
            NumberChangeReason::parse("leaked by an employer").unwrap(),
            &admin("supervisor"),
        )
        .await
        .unwrap();
    let form = ApplicationFormId::new("131016".parse().unwrap(), 1234567890123456).unwrap();
    store
        .put_notice(registered.resident_key, &form, &admin("test"))
        .await
        .unwrap();
    let receipt = ReceiptNumber::new(987654321012345).unwrap();
    let mail = maina_store::Mail {
        to: "hanako@example.jp".into(),
        subject: "受付".into(),
        body: "本文".into(),
    };
    store
        .submit_application(
            &hanako_application(form, receipt, Channel::Smartphone),
            &admin("test"),
            Some(mail.clone()),
        )
        .await
        .unwrap();
    let link = maina_store::ApplyLink {
        form_id: form,
        name: "山田 花子".into(),
        email: "hanako@example.jp".into(),
        language: "ja".into(),
    };
    let token = [3u8; 32];
    store
        .create_apply_link(
            &token,
            &link,
            maina_store::now_micros() + 3_600_000_000,
            &mail,
        )
        .await
        .unwrap();
    assert_eq!(store.apply_link(&token).await.unwrap(), Some(link));
    store
        .put_card(
            "0123456789ABCDEF",
            Some(registered.resident_key),
            b"chip",
            &[maina_store::NewCertificate {
                serial: "AA01".into(),
                ca: "auth".into(),
                not_before: 1_700_000_000,
                not_after: 4_000_000_000,
                der: b"certificate".to_vec(),
            }],
            &admin("test"),
        )
        .await
        .unwrap();
    let number = manufacture::ship_one(store, &receipt).await;
    appointments::notice_for_existing_card(store, "0123456789ABCDEF", registered.resident_key)
        .await;
    counter::hand_over_and_hold_pins(store, registered.resident_key, &receipt, number).await;
    // A change of address writes the active cards' notes panels.
    store
        .apply(
            registered.resident_key,
            ResidentEvent::AddressChanged {
                date: today(),
                address: Address::parse("東京都千代田区丸の内2-2").unwrap(),
            },
            &admin("test"),
        )
        .await
        .unwrap();
    renewal::replace_and_write_a_letter(store, registered.resident_key).await;
    store
        .set_notify_preference(
            registered.resident_key,
            Some(&maina_store::NotifyAddress {
                to: "hanako@example.jp".into(),
                language: "ja".into(),
            }),
            &admin("resident"),
        )
        .await
        .unwrap();
    oidc::fill_sealed(store, registered.resident_key).await;
    registered.resident_key
}

/// Every sealed column of every table holds the one sealed format, with the key id.
#[tokio::test]
async fn every_sealed_value_has_one_format_and_a_key_id() {
    use maina_store::{Sealer, FIRST_KEY_ID, SEAL_FORMAT};
    for backend in backends("sealformat").await {
        let store = open(&backend.url).await;
        fill_every_sealed_column(&store).await;
        store.close().await;
        drop(store);
        for &(table, column) in SEALED_COLUMNS {
            let blobs = raw_rows(
                &backend,
                &format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL"),
            )
            .await;
            assert!(!blobs.is_empty(), "{table}.{column} on {}", backend.name);
            for blob in blobs {
                assert_eq!(blob.first(), Some(&SEAL_FORMAT), "{table}.{column}");
                assert_eq!(
                    Sealer::key_id(&blob),
                    Some(FIRST_KEY_ID),
                    "{table}.{column}"
                );
            }
        }
    }
}

/// A database sealed in an older format is refused when it is opened, not at the
/// first read of a sealed value.
#[tokio::test]
async fn an_older_seal_format_is_refused_at_open() {
    for backend in backends("oldformat").await {
        let store = open(&backend.url).await;
        store.close().await;
        drop(store);
        // Built before the format was recorded: a fingerprint, no format row.
        raw_execute(&backend, "DELETE FROM meta WHERE name = 'seal_format'").await;
        let err = Store::open(&backend.url, &Keys::from_bytes([42u8; 32]))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::SealFormat { stored } if stored == "1"),
            "{err} on {}",
            backend.name
        );
        assert!(err.to_string().contains("format 1"), "{err}");
        raw_execute(
            &backend,
            "INSERT INTO meta (name, value) VALUES ('seal_format', '9')",
        )
        .await;
        let err = Store::open(&backend.url, &Keys::from_bytes([42u8; 32]))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::SealFormat { stored } if stored == "9"),
            "{err} on {}",
            backend.name
        );
    }
}

#[path = "store/key_rotation.rs"]
mod key_rotation;
#[path = "store/manufacture.rs"]
mod manufacture;
#[path = "store/portal.rs"]
mod portal;

#[path = "store/counter.rs"]
mod counter;

#[path = "store/card_moves.rs"]
mod card_moves;

#[path = "store/chip.rs"]
mod chip;
#[path = "store/oidc.rs"]
mod oidc;
#[path = "store/oidc_replay.rs"]
mod oidc_replay;
#[path = "store/renewal.rs"]
mod renewal;
#[path = "store/renewal_online.rs"]
mod renewal_online;
#[path = "store/signature_verifiers.rs"]
mod signature_verifiers;
#[path = "store/suspension.rs"]
mod suspension;

/// Hanako Yamada's application (born 1990-04-01, with an e-mail address and a
/// photo) under `form` and `receipt`.
fn hanako_application(
    form: maina_core::ApplicationFormId,
    receipt: maina_core::ReceiptNumber,
    channel: maina_core::application::Channel,
) -> maina_store::NewApplication {
    maina_store::NewApplication {
        form_id: form,
        receipt,
        channel,
        details: maina_store::ApplicationDetails {
            name: "山田 花子".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 4, 1).unwrap(),
            email: Some("hanako@example.jp".into()),
            language: "ja".into(),
            electronic_certificate: true,
            braille: false,
            receipt: receipt.as_digits(),
        },
        photo: Some(vec![0xFF, 0xD8, 0xFF]),
    }
}
