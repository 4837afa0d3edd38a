//! Attempts and races: the shared throttle counts before it answers (parallel
//! bursts, two stores over one database), log-ins check passwords outside the
//! writer and cost the same for unknown users and locked accounts, receipt numbers
//! that collide are drawn again, and the online link is spent with its
//! application.

use super::{admin, backends, japanese, open, today};
use maina_core::application::Channel;
use maina_core::officer::Role;
use maina_core::{ApplicationFormId, ReceiptNumber};
use maina_store::{
    ApplicationDetails, ApplyLink, LoginFailure, Mail, NewApplication, Store, StoreError,
    ThrottleRule, ThrottleVerdict, APPLY_LINK, RECEIPT_ATTEMPTS,
};
use std::time::{Duration, Instant};

fn rule(subject: &str, window_seconds: i64, limit: u32) -> ThrottleRule {
    ThrottleRule {
        scope: "test-scope",
        subject: subject.into(),
        window_seconds,
        limit,
    }
}

fn allowed(verdict: &ThrottleVerdict) -> bool {
    matches!(verdict, ThrottleVerdict::Allowed(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_gets_no_more_than_the_limit_and_two_stores_count_together() {
    for backend in backends("throttle").await {
        let store = open(&backend.url).await;
        // 50 parallel attempts at one subject, 3 allowed: exactly 3 pass.
        let hits: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.throttle_hit(&[rule("form-1", 600, 3)]).await })
            })
            .collect();
        let mut passed = 0;
        for hit in hits {
            match hit.await.unwrap().unwrap() {
                ThrottleVerdict::Allowed(_) => passed += 1,
                ThrottleVerdict::Refused {
                    retry_after_seconds,
                } => assert!((1..=600).contains(&retry_after_seconds)),
            }
        }
        assert_eq!(passed, 3, "{}", backend.name);

        // A second store over the same database (another server process) shares
        // the count; another subject has its own.
        let other = Store::open(&backend.url, &maina_store::Keys::from_bytes([42u8; 32]))
            .await
            .unwrap();
        assert!(!allowed(
            &other.throttle_hit(&[rule("form-1", 600, 3)]).await.unwrap()
        ));
        let ThrottleVerdict::Allowed(ticket) =
            other.throttle_hit(&[rule("form-2", 600, 2)]).await.unwrap()
        else {
            panic!("a fresh subject is refused ({})", backend.name)
        };
        assert!(allowed(
            &store.throttle_hit(&[rule("form-2", 600, 2)]).await.unwrap()
        ));
        assert!(!allowed(
            &store.throttle_hit(&[rule("form-2", 600, 2)]).await.unwrap()
        ));
        // A refund takes one attempt back (a success).
        other.throttle_refund(&ticket).await.unwrap();
        other.throttle_refund(&ticket).await.unwrap();
        assert!(allowed(
            &store.throttle_hit(&[rule("form-2", 600, 2)]).await.unwrap()
        ));
        // Every rule counts; the strictest decides.
        assert!(!allowed(
            &store
                .throttle_hit(&[rule("form-3", 600, 100), rule("form-1", 600, 3)])
                .await
                .unwrap()
        ));

        // Expired windows are pruned.
        store.throttle_hit(&[rule("short", 1, 5)]).await.unwrap();
        let before = store.throttle_rows().await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert!(store.prune_throttles().await.unwrap() >= 1);
        assert!(store.throttle_rows().await.unwrap() < before);
        other.close().await;
    }
}

const PASSWORD: &str = "correct horse battery";

/// The tests that time password checks run one at a time: side by side, each
/// would slow the other's checks and blur the comparison.
static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn officer(store: &Store, name: &str) {
    store
        .add_officer(
            &name.parse().unwrap(),
            Role::Registrar,
            "131016".parse().unwrap(),
            PASSWORD,
            &admin("setup"),
        )
        .await
        .unwrap();
}

/// The shortest of `runs` log-ins (the time of a password check, near enough).
async fn login_time(store: &Store, user: &str, password: &str, runs: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let started = Instant::now();
        let _ = store.login(user, password, 60_000_000).await.unwrap();
        best = best.min(started.elapsed());
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_ins_hold_up_no_write() {
    let _timing = TIMING.lock().await;
    for backend in backends("loginwrites").await {
        let store = open(&backend.url).await;
        officer(&store, "kato").await;
        let check = login_time(&store, "kato", PASSWORD, 3).await;
        // Two officers log in over and over while the store writes.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let loops: Vec<_> = (0..2)
            .map(|_| {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        store
                            .login("kato", PASSWORD, 60_000_000)
                            .await
                            .unwrap()
                            .unwrap();
                    }
                })
            })
            .collect();
        tokio::time::sleep(check / 2).await;
        let mut writes = Vec::new();
        for round in 0..9 {
            let started = Instant::now();
            store
                .put_municipality(&maina_store::Municipality {
                    code: "011002".parse().unwrap(),
                    name_ja: "札幌市".into(),
                    name_en: format!("Sapporo {round}"),
                })
                .await
                .unwrap();
            writes.push(started.elapsed());
            tokio::time::sleep(check / 3).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for handle in loops {
            handle.await.unwrap();
        }
        writes.sort();
        let median = writes[writes.len() / 2];
        assert!(
            median < check / 4,
            "{}: a write took {median:?} (median) while log-ins ran; a password check takes {check:?}",
            backend.name
        );
    }
}

#[tokio::test]
async fn unknown_users_and_locked_accounts_cost_a_password_check() {
    let _timing = TIMING.lock().await;
    for backend in backends("logintiming").await {
        let store = open(&backend.url).await;
        officer(&store, "sato").await;
        officer(&store, "ito").await;
        let known = login_time(&store, "ito", PASSWORD, 3).await;
        let unknown = login_time(&store, "nobody-at-all", PASSWORD, 3).await;
        assert!(
            unknown * 4 > known,
            "{}: unknown user {unknown:?}, known user {known:?}",
            backend.name
        );
        // Five wrong passwords lock the account.
        for _ in 0..4 {
            assert_eq!(
                store.login("sato", "wrong password 1", 1).await.unwrap(),
                Err(LoginFailure::BadCredentials)
            );
        }
        assert!(matches!(
            store.login("sato", "wrong password 1", 1).await.unwrap(),
            Err(LoginFailure::Locked { .. })
        ));
        // Locked, the account answers so to any password, right or wrong (no
        // oracle for the password), and only after the same password check.
        for password in ["wrong password 2", PASSWORD] {
            let started = Instant::now();
            let answer = store.login("sato", password, 1).await.unwrap();
            let took = started.elapsed();
            assert!(
                matches!(answer, Err(LoginFailure::Locked { .. })),
                "{answer:?}"
            );
            assert!(
                took * 4 > known,
                "{}: a locked account answered in {took:?}, a password check takes {known:?}",
                backend.name
            );
        }
        // Another account is not affected.
        assert!(store.login("ito", PASSWORD, 1).await.unwrap().is_ok());
    }
}

/// A registered resident with a notice carrying `form`.
async fn resident_with_form(store: &Store, family: &str, form: &ApplicationFormId) {
    let registered = store
        .register(japanese(family).parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    store
        .put_notice(registered.resident_key, form, &admin("test"))
        .await
        .unwrap();
}

fn application(form: ApplicationFormId, receipt: ReceiptNumber) -> NewApplication {
    super::hanako_application(form, receipt, Channel::Pc)
}

fn form(random: u64) -> ApplicationFormId {
    ApplicationFormId::new("131016".parse().unwrap(), random).unwrap()
}

fn receipt_mail(details: &ApplicationDetails) -> Option<Mail> {
    Some(Mail {
        to: "hanako@example.jp".into(),
        subject: "受付".into(),
        body: details.receipt.clone(),
    })
}

#[tokio::test]
async fn a_taken_receipt_number_is_drawn_again() {
    for backend in backends("receipts").await {
        let store = open(&backend.url).await;
        let taken = ReceiptNumber::new(111_111_111_111_111).unwrap();
        let fresh = ReceiptNumber::new(222_222_222_222_222).unwrap();
        for (family, random) in [("山田", 1), ("佐藤", 2), ("鈴木", 3)] {
            resident_with_form(&store, family, &form(random)).await;
        }
        store
            .submit_application(&application(form(1), taken), &admin("test"), None)
            .await
            .unwrap();
        // The next application draws the taken number first, then a fresh one.
        let mut draws = vec![fresh].into_iter();
        let record = store
            .submit_application_with(
                &application(form(2), taken),
                None,
                &admin("test"),
                receipt_mail,
                || draws.next(),
            )
            .await
            .unwrap();
        assert_eq!(
            record.details.receipt,
            fresh.as_digits(),
            "{}",
            backend.name
        );
        assert_eq!(
            store.application_by_receipt(&fresh).await.unwrap().id,
            record.id
        );
        // The e-mail tells the number it was recorded under.
        let due = store.due_mail(10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].mail.body, fresh.as_digits());
        // A generator that only ever draws taken numbers gives up after a few, and
        // leaves nothing behind.
        let mut drawn = 0;
        let refused = store
            .submit_application_with(
                &application(form(3), taken),
                None,
                &admin("test"),
                receipt_mail,
                || {
                    drawn += 1;
                    Some(fresh)
                },
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Duplicate(_))),
            "{refused:?}"
        );
        assert_eq!(drawn, RECEIPT_ATTEMPTS - 1);
        assert!(!store.form_in_use(&form(3)).await.unwrap());
        assert_eq!(store.due_mail(10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_online_link_is_spent_with_its_application_only() {
    for backend in backends("linkspend").await {
        let store = open(&backend.url).await;
        for (family, random) in [("山田", 11), ("佐藤", 12)] {
            resident_with_form(&store, family, &form(random)).await;
        }
        let mail = Mail {
            to: "hanako@example.jp".into(),
            subject: "link".into(),
            body: "https://maina.invalid/apply/continue?token=x".into(),
        };
        let link = |random| ApplyLink {
            form_id: form(random),
            name: "山田 花子".into(),
            email: "hanako@example.jp".into(),
            language: "ja".into(),
        };
        let expires = maina_store::now_micros() + 3_600_000_000;
        let (used_form, fresh_form) = ([1u8; 32], [2u8; 32]);
        store
            .create_apply_link(&used_form, &link(11), expires, &mail)
            .await
            .unwrap();
        store
            .create_apply_link(&fresh_form, &link(12), expires, &mail)
            .await
            .unwrap();
        // The form is used meanwhile (a mailed application): the insert fails, and
        // the link stays usable.
        store
            .submit_application(
                &application(form(11), ReceiptNumber::new(5).unwrap()),
                &admin("test"),
                None,
            )
            .await
            .unwrap();
        let failed = store
            .submit_application_with(
                &application(form(11), ReceiptNumber::new(6).unwrap()),
                Some(&used_form),
                &admin("test"),
                receipt_mail,
                || None,
            )
            .await;
        assert!(
            matches!(failed, Err(StoreError::Duplicate(_))),
            "{failed:?}"
        );
        assert!(store.apply_link(&used_form).await.unwrap().is_some());
        // A recorded application spends its link, once.
        store
            .submit_application_with(
                &application(form(12), ReceiptNumber::new(7).unwrap()),
                Some(&fresh_form),
                &admin("test"),
                receipt_mail,
                || None,
            )
            .await
            .unwrap();
        assert!(store.apply_link(&fresh_form).await.unwrap().is_none());
        let replay = store
            .submit_application_with(
                &application(form(12), ReceiptNumber::new(8).unwrap()),
                Some(&fresh_form),
                &admin("test"),
                receipt_mail,
                || None,
            )
            .await;
        assert!(
            matches!(replay, Err(StoreError::NotFound(APPLY_LINK))),
            "{replay:?}"
        );
    }
}
