//! The resident portal's store side: the record of who used my data (what it
//! lists, in which order, paged), the chain check up to an entry, the notification
//! preference and the worker's exactly-once queueing.

use super::{admin, backends, japanese, open, raw_execute, today};
use maina_core::officer::{Actor, Role};
use maina_store::{AccessKind, Mail, NotifyAddress, Store, PORTAL_ACTOR};

fn officer(name: &str, role: Role, purpose: &str) -> Actor {
    Actor {
        officer: name.into(),
        role,
        municipality: Some("131016".parse().unwrap()),
        purpose: purpose.into(),
    }
}

async fn resident(store: &Store, family: &str) -> u64 {
    let registered = store
        .register(japanese(family).parse(today()).unwrap(), &admin("test"))
        .await
        .unwrap();
    store
        .resident_by_code(&registered.resident_code)
        .await
        .unwrap()
        .resident_key
}

#[tokio::test]
async fn the_record_lists_officers_card_events_and_not_the_residents_own_reads() {
    for backend in backends("portal_record").await {
        let store = open(&backend.url).await;
        let hanako = resident(&store, "山田").await;
        let other = resident(&store, "佐藤").await;
        let registrar = officer("suzuki", Role::Registrar, "tax check");
        let portal = Actor::administrator(PORTAL_ACTOR, "resident portal");
        store.audit(&registrar, "read", Some(hanako)).await.unwrap();
        store
            .audit(&portal, "portal.record-read", Some(hanako))
            .await
            .unwrap();
        store
            .audit(
                &Actor::administrator("public", "status inquiry"),
                "read",
                Some(hanako),
            )
            .await
            .unwrap();
        store
            .audit(
                &officer("sato", Role::Helpline, "call"),
                "card.suspend",
                Some(hanako),
            )
            .await
            .unwrap();
        // The resident's own suspension is listed too: it is a card event.
        store
            .audit(&portal, "card.suspend", Some(hanako))
            .await
            .unwrap();
        store.audit(&registrar, "read", Some(other)).await.unwrap();
        // An officer stating the portal's purpose is still an officer.
        store
            .audit(
                &officer("tanaka", Role::Counter, "resident portal"),
                "read-history",
                Some(hanako),
            )
            .await
            .unwrap();

        let page = store.access_record(hanako, 100, 0).await.unwrap();
        // Registration (the administrator "test" is an actor too), the registrar's
        // read, two suspensions, the counter's read.
        let actions: Vec<(&str, AccessKind, &str)> = page
            .entries
            .iter()
            .map(|e| (e.action.as_str(), e.kind, e.role.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("read-history", AccessKind::Officer, "counter"),
                ("card.suspend", AccessKind::Card, "administrator"),
                ("card.suspend", AccessKind::Card, "helpline"),
                ("read", AccessKind::Officer, "registrar"),
                ("register", AccessKind::Officer, "administrator"),
            ],
            "{}",
            backend.name
        );
        assert_eq!(page.total, 5);
        // Newest first, each with its chain position.
        let positions: Vec<u64> = page.entries.iter().map(|e| e.seq.unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] > w[1]), "{positions:?}");
        let read = page.entries.iter().find(|e| e.action == "read").unwrap();
        assert_eq!(
            (read.municipality.as_str(), read.purpose.as_str()),
            ("131016", "tax check")
        );

        // Paged: two, two, one.
        let first = store.access_record(hanako, 2, 0).await.unwrap();
        let second = store.access_record(hanako, 2, 2).await.unwrap();
        let third = store.access_record(hanako, 2, 4).await.unwrap();
        assert_eq!(
            (
                first.entries.len(),
                second.entries.len(),
                third.entries.len()
            ),
            (2, 2, 1)
        );
        assert_eq!(first.entries[0], page.entries[0]);
        assert_eq!(third.entries[0], page.entries[4]);
        assert_eq!(third.total, 5);

        // The chain verifies up to every entry, and each entry's own link.
        let check = store.verify_audit_upto(positions[0]).await.unwrap();
        assert!(
            check.covers(positions[0]) && check.problem.is_none(),
            "{check:?}"
        );
        assert!(store
            .audit_links_broken(&positions)
            .await
            .unwrap()
            .is_empty());

        // An entry altered afterwards: its own link no longer verifies, and a
        // fresh walk (another process) stops before it.
        store.close().await;
        drop(store);
        raw_execute(
            &backend,
            &format!(
                "UPDATE audit_events SET purpose = 'nothing' WHERE seq = {}",
                positions[3]
            ),
        )
        .await;
        let store = Store::open(&backend.url, &maina_store::Keys::from_bytes([42u8; 32]))
            .await
            .unwrap();
        assert_eq!(
            store.audit_links_broken(&positions).await.unwrap(),
            vec![positions[3]]
        );
        let check = store.verify_audit_upto(positions[0]).await.unwrap();
        assert_eq!(check.verified_upto, positions[3] - 1, "{}", backend.name);
        assert!(
            check
                .problem
                .as_deref()
                .unwrap_or_default()
                .contains("altered"),
            "{check:?}"
        );
        assert!(!check.covers(positions[0]));
        store.close().await;
    }
}

#[tokio::test]
async fn notifications_are_sealed_and_each_access_is_told_of_exactly_once() {
    for backend in backends("portal_notify").await {
        let store = open(&backend.url).await;
        let hanako = resident(&store, "山田").await;
        let quiet = resident(&store, "佐藤").await;
        assert!(!store.notify_preference(hanako).await.unwrap().notify_access);
        // The first step starts the cursor at the head: nothing from before.
        let start = store.pending_access_notices(10).await.unwrap();
        assert!(start.notices.is_empty() && start.from == start.upto);

        let address = NotifyAddress {
            to: "hanako@example.jp".into(),
            language: "ja".into(),
        };
        let portal = Actor::administrator(PORTAL_ACTOR, "resident portal");
        store
            .set_notify_preference(hanako, Some(&address), &portal)
            .await
            .unwrap();
        let preference = store.notify_preference(hanako).await.unwrap();
        assert!(preference.notify_access);
        assert_eq!(preference.email, Some(address.clone()));

        let registrar = officer("suzuki", Role::Registrar, "tax check");
        store.audit(&registrar, "read", Some(hanako)).await.unwrap();
        store.audit(&registrar, "read", Some(quiet)).await.unwrap();
        store
            .audit(&portal, "portal.record-read", Some(hanako))
            .await
            .unwrap();
        store
            .audit(&registrar, "read-history", Some(hanako))
            .await
            .unwrap();

        let batch = store.pending_access_notices(10).await.unwrap();
        let actions: Vec<&str> = batch
            .notices
            .iter()
            .map(|n| n.entry.action.as_str())
            .collect();
        assert_eq!(actions, vec!["read", "read-history"], "{}", backend.name);
        assert!(batch
            .notices
            .iter()
            .all(|n| n.address == address && n.resident_key == hanako));
        let mail = |n: &maina_store::AccessNotice| Mail {
            to: n.address.to.clone(),
            subject: "s".into(),
            body: n.entry.action.clone(),
        };
        let mails: Vec<Mail> = batch.notices.iter().map(mail).collect();
        let before = store.pending_mail().await.unwrap();
        assert!(store
            .queue_access_notices(batch.from, batch.upto, &mails)
            .await
            .unwrap());
        assert_eq!(store.pending_mail().await.unwrap(), before + 2);
        // The same batch again (a second worker that read it meanwhile) queues
        // nothing: the cursor moved.
        assert!(!store
            .queue_access_notices(batch.from, batch.upto, &mails)
            .await
            .unwrap());
        assert_eq!(store.pending_mail().await.unwrap(), before + 2);
        assert!(store
            .pending_access_notices(10)
            .await
            .unwrap()
            .notices
            .is_empty());

        // A batch cut by its limit moves the cursor only to its last access.
        for _ in 0..3 {
            store.audit(&registrar, "read", Some(hanako)).await.unwrap();
        }
        let cut = store.pending_access_notices(2).await.unwrap();
        assert_eq!(cut.notices.len(), 2);
        assert_eq!(Some(cut.upto), cut.notices[1].entry.seq);
        assert!(store
            .queue_access_notices(cut.from, cut.upto, &[])
            .await
            .unwrap());
        assert_eq!(
            store
                .pending_access_notices(10)
                .await
                .unwrap()
                .notices
                .len(),
            1
        );

        // Off: the address is forgotten, nothing more is told.
        store
            .set_notify_preference(hanako, None, &portal)
            .await
            .unwrap();
        let preference = store.notify_preference(hanako).await.unwrap();
        assert!(!preference.notify_access && preference.email.is_none());
        assert!(store
            .pending_access_notices(10)
            .await
            .unwrap()
            .notices
            .is_empty());
        // Switching is the resident's own act, audited, never an "access".
        let record = store.access_record(hanako, 100, 0).await.unwrap();
        assert!(record
            .entries
            .iter()
            .all(|e| !e.action.starts_with("portal.")));
        store.close().await;
    }
}

#[tokio::test]
async fn sign_ins_are_in_the_record_and_consents_are_listed_until_switched_off() {
    use maina_store::{
        AnsweredRequest, NewAuthRequest, NewRelyingParty, RequestStatus, SigninRecord,
    };
    for backend in backends("portal_signins").await {
        let store = open(&backend.url).await;
        let hanako = resident(&store, "山田").await;
        store
            .add_relying_party(
                &NewRelyingParty {
                    client_id: "bank".into(),
                    name: "Example Bank".into(),
                    kind: "facts".into(),
                    redirect_uris: vec!["https://bank.example/cb".into()],
                    secret_hash: Some(vec![7u8; 32]),
                    jwks: None,
                    sector: "bank.example".into(),
                    id_token_alg: "ES256".into(),
                    first_party: false,
                },
                &admin("test"),
            )
            .await
            .unwrap();
        let far = maina_store::now_micros() + 300_000_000;
        store
            .put_auth_request(&NewAuthRequest {
                id: "r1".into(),
                challenge_hash: [1; 32],
                browser_hash: [9u8; 32],
                client_id: "bank".into(),
                redirect_uri: "https://bank.example/cb".into(),
                state: "st".into(),
                nonce: "".into(),
                code_challenge: "c".repeat(43),
                scope: "openid profile".into(),
                card_key: "sign".into(),
                expires_at: far,
            })
            .await
            .unwrap();
        let answer = AnsweredRequest {
            resident_key: hanako,
            serial: "AA01".into(),
        };
        let none: Option<&String> = None;
        assert!(store
            .answer_auth_request("r1", &[1; 32], &answer, none)
            .await
            .unwrap());
        assert!(store
            .consent_auth_request("r1", hanako, "bank")
            .await
            .unwrap());
        assert!(store
            .issue_code("r1", &[RequestStatus::Consented], &[5; 32], far)
            .await
            .unwrap());
        let signin = SigninRecord {
            request_id: "r1".into(),
            client_id: "bank".into(),
            resident_key: hanako,
            at: maina_store::now_micros(),
            claims: "sub,name,address".into(),
        };
        assert!(store.redeem_code(&[5; 32], &signin).await.unwrap());

        let record = store.access_record(hanako, 10, 0).await.unwrap();
        let newest = &record.entries[0];
        assert_eq!(newest.kind, AccessKind::Signin, "{}", backend.name);
        assert_eq!(
            (
                newest.action.as_str(),
                newest.purpose.as_str(),
                newest.detail.as_str()
            ),
            ("bank", "Example Bank", "sub,name,address")
        );
        assert_eq!(newest.seq, None);
        // A refused sign-in with the card is audited by the provider: listed as a
        // sign-in, with its chain position; the provider's actor is no officer.
        let provider = Actor::administrator("oidc", "sign-in");
        store
            .audit(&provider, "oidc.signin-refused:card", Some(hanako))
            .await
            .unwrap();
        let record = store.access_record(hanako, 10, 0).await.unwrap();
        assert_eq!(record.entries[0].kind, AccessKind::Signin);
        assert!(record.entries[0].seq.is_some());

        let consents = store.active_consents(hanako).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert_eq!(
            (consents[0].client_id.as_str(), consents[0].name.as_str()),
            ("bank", "Example Bank")
        );
        assert!(store.revoke_consent(hanako, "bank").await.unwrap());
        assert!(store.active_consents(hanako).await.unwrap().is_empty());
        store.close().await;
    }
}
