//! Offices and appointments on both databases: the notice found by number and birth
//! date only, seats that never overbook (also from 20 parallel bookings), moving,
//! cancelling, the day list and the reminders.

use super::{admin, backends, open};
use chrono::NaiveDate;
use maina_core::IssueNoticeNumber;
use maina_store::pickup::{
    Booking, BookingOutcome, IssueNoticeDetails, IssueNoticeRow, NoticeForBooking, OfficeUpdate,
};
use maina_store::{Store, StoreError};

pub(crate) fn birth() -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 4, 1).unwrap()
}

/// An issue notice for a card made here (the card row is its foreign key).
pub(crate) async fn notice_for_card(
    store: &Store,
    card_id: &str,
    resident_key: u64,
) -> IssueNoticeNumber {
    store
        .put_card(card_id, Some(resident_key), b"chip", &[], &admin("test"))
        .await
        .unwrap();
    notice_for_existing_card(store, card_id, resident_key).await
}

/// An issue notice for a card already stored.
pub(crate) async fn notice_for_existing_card(
    store: &Store,
    card_id: &str,
    resident_key: u64,
) -> IssueNoticeNumber {
    let random = card_id.bytes().fold(7u64, |acc, b| {
        (acc * 31 + u64::from(b)) % IssueNoticeNumber::RANDOM_SPACE
    });
    let number = IssueNoticeNumber::new("131016".parse().unwrap(), random).unwrap();
    store
        .insert_issue_notice_for_tests(&IssueNoticeRow {
            number,
            birth_date: birth(),
            card_id: card_id.into(),
            application_id: resident_key,
            resident_key,
            municipality: "131016".parse().unwrap(),
            office_id: None,
            deadline: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            details: IssueNoticeDetails {
                notice_number: number.as_digits(),
                email: Some(format!("{card_id}@example.jp")),
                language: "ja".into(),
                name: format!("山田 {card_id}"),
            },
        })
        .await
        .unwrap();
    number
}

async fn found(store: &Store, number: &IssueNoticeNumber) -> NoticeForBooking {
    store
        .notice_for_booking(number, birth())
        .await
        .unwrap()
        .unwrap()
}

const START: i64 = 1_800_000_000;

fn booking(notice: &NoticeForBooking, office: u64, starts_at: i64, moving: bool) -> Booking<'_> {
    Booking {
        notice,
        office_id: office,
        starts_at,
        capacity: 2,
        moving,
    }
}

#[tokio::test]
async fn a_notice_is_found_only_with_its_birth_date() {
    for backend in backends("notice_lookup").await {
        let store = open(&backend.url).await;
        let number = notice_for_card(&store, "CARD-LOOKUP", 1).await;
        let notice = found(&store, &number).await;
        assert_eq!(notice.details.notice_number, number.as_digits());
        assert_eq!(notice.municipality, "131016");
        assert!(notice.appointment.is_none() && !notice.closed);
        let wrong_birth = NaiveDate::from_ymd_opt(1990, 4, 2).unwrap();
        assert!(store
            .notice_for_booking(&number, wrong_birth)
            .await
            .unwrap()
            .is_none());
        let unknown = IssueNoticeNumber::new("131016".parse().unwrap(), 5).unwrap();
        assert!(store
            .notice_for_booking(&unknown, birth())
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn offices_have_defaults_and_supervisors_change_them() {
    for backend in backends("offices").await {
        let store = open(&backend.url).await;
        let chiyoda = "131016".parse().unwrap();
        // A public read writes nothing: the defaults, no row yet (id 0).
        let view = store.office_view(&chiyoda).await.unwrap();
        assert_eq!((view.id, view.updated_by.as_str()), (0, "default"));
        let office = store.office_of(&chiyoda).await.unwrap();
        assert!(office.id > 0);
        assert_eq!(
            store.office_view(&chiyoda).await.unwrap(),
            office,
            "{}",
            backend.name
        );
        assert_eq!(office.name_ja, "千代田区 本庁舎 市民課");
        assert_eq!(office.hours, "mon-fri 08:30-17:15");
        assert_eq!((office.counters, office.slot_minutes), (2, 15));
        // The same office the second time.
        assert_eq!(store.office_of(&chiyoda).await.unwrap().id, office.id);
        let unknown = "999997".parse();
        if let Ok(unknown) = unknown {
            assert!(matches!(
                store.office_of(&unknown).await,
                Err(StoreError::NotFound("municipality"))
            ));
        }
        let update = OfficeUpdate {
            name_ja: "千代田区役所 2階 戸籍住民課".into(),
            name_en: "Chiyoda City Office, 2F".into(),
            address_ja: "東京都千代田区九段南1-2-1".into(),
            address_en: "1-2-1 Kudan-minami, Chiyoda-ku, Tokyo".into(),
            phone: "03-3264-2111".into(),
            hours: "mon-fri 08:30-17:15; sat 09:00-12:00".into(),
            counters: 3,
            slot_minutes: 20,
            book_from_days: 2,
            book_to_days: 14,
        };
        let changed = store
            .put_office(&chiyoda, &update, &admin("supervisor"))
            .await
            .unwrap();
        assert_eq!(changed.id, office.id);
        assert_eq!(changed.counters, 3);
        assert_eq!(changed.updated_by, "supervisor");
        assert_eq!(changed.phone, "03-3264-2111");
    }
}

#[tokio::test]
async fn seats_book_move_and_cancel_without_overbooking() {
    for backend in backends("seats").await {
        let store = open(&backend.url).await;
        let office = store
            .office_of(&"131016".parse().unwrap())
            .await
            .unwrap()
            .id;
        let a = found(&store, &notice_for_card(&store, "CARD-A", 1).await).await;
        let b = found(&store, &notice_for_card(&store, "CARD-B", 2).await).await;
        let c = found(&store, &notice_for_card(&store, "CARD-C", 3).await).await;
        let public = admin("public");
        let booked = |outcome: BookingOutcome| match outcome {
            BookingOutcome::Booked(record) => record,
            other => panic!("{other:?} on {}", backend.name),
        };
        let first = booked(
            store
                .book_appointment(&booking(&a, office, START, false), &public, |_| None)
                .await
                .unwrap(),
        );
        booked(
            store
                .book_appointment(&booking(&b, office, START, false), &public, |_| None)
                .await
                .unwrap(),
        );
        // Two counters: the third resident finds the slot full.
        assert_eq!(
            store
                .book_appointment(&booking(&c, office, START, false), &public, |_| None)
                .await
                .unwrap(),
            BookingOutcome::Full
        );
        // A notice books once; a second booking changes nothing.
        let a = found(&store, &a.details.notice_number.parse().unwrap()).await;
        assert_eq!(a.appointment.as_ref(), Some(&first));
        assert_eq!(
            store
                .book_appointment(&booking(&a, office, START + 900, false), &public, |_| None)
                .await
                .unwrap(),
            BookingOutcome::AlreadyBooked(first.clone())
        );
        // Moving needs a live appointment.
        assert_eq!(
            store
                .book_appointment(&booking(&c, office, START + 900, true), &public, |_| None)
                .await
                .unwrap(),
            BookingOutcome::NothingToMove
        );
        let counts = store
            .slot_counts(office, START, START + 3600)
            .await
            .unwrap();
        assert_eq!(
            (counts.len(), counts[0].booked, counts[0].capacity),
            (1, 2, 2)
        );
        // A moves later: its seat is given back, so C gets the first slot.
        let moved = booked(
            store
                .book_appointment(&booking(&a, office, START + 900, true), &public, |_| None)
                .await
                .unwrap(),
        );
        assert_eq!(moved.starts_at, START + 900);
        booked(
            store
                .book_appointment(&booking(&c, office, START, false), &public, |_| None)
                .await
                .unwrap(),
        );
        // B cannot move into... B's own slot is full again; moving A back is refused
        // and A keeps its appointment.
        let a = found(&store, &a.details.notice_number.parse().unwrap()).await;
        assert_eq!(
            store
                .book_appointment(&booking(&a, office, START, true), &public, |_| None)
                .await
                .unwrap(),
            BookingOutcome::Full
        );
        let a = found(&store, &a.details.notice_number.parse().unwrap()).await;
        assert_eq!(
            a.appointment.as_ref().map(|x| x.starts_at),
            Some(START + 900)
        );
        // Cancelling gives the seat back; a second cancel finds nothing.
        let cancelled = store
            .cancel_appointment(&a, &public, |_| None)
            .await
            .unwrap();
        assert_eq!(cancelled.starts_at, START + 900);
        assert!(matches!(
            store.cancel_appointment(&a, &public, |_| None).await,
            Err(StoreError::NotFound("appointment"))
        ));
        let counts = store
            .slot_counts(office, START, START + 3600)
            .await
            .unwrap();
        let seats: Vec<(i64, u64)> = counts.iter().map(|c| (c.starts_at, c.booked)).collect();
        assert_eq!(
            seats,
            vec![(START, 2), (START + 900, 0)],
            "{}",
            backend.name
        );
        // The day list: the two live appointments, in time order, with names.
        let day = store
            .day_appointments(office, START, START + 3600)
            .await
            .unwrap();
        let names: Vec<&str> = day.iter().map(|e| e.details.name.as_str()).collect();
        assert_eq!(names, vec!["山田 CARD-B", "山田 CARD-C"]);
    }
}

#[tokio::test]
async fn twenty_parallel_bookings_take_exactly_the_seats() {
    for backend in backends("parallel_seats").await {
        let store = open(&backend.url).await;
        let office = store
            .office_of(&"131016".parse().unwrap())
            .await
            .unwrap()
            .id;
        let mut notices = Vec::new();
        for i in 0..20 {
            let number = notice_for_card(&store, &format!("CARD-P{i:02}"), 100 + i).await;
            notices.push(found(&store, &number).await);
        }
        let tasks: Vec<_> = notices
            .into_iter()
            .map(|notice| {
                let store = store.clone();
                tokio::spawn(async move {
                    let request = Booking {
                        notice: &notice,
                        office_id: office,
                        starts_at: START,
                        capacity: 3,
                        moving: false,
                    };
                    store
                        .book_appointment(&request, &admin("public"), |_| None)
                        .await
                })
            })
            .collect();
        let mut booked = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                BookingOutcome::Booked(_) => booked += 1,
                BookingOutcome::Full => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(booked, 3, "{}", backend.name);
        let counts = store.slot_counts(office, START, START + 1).await.unwrap();
        assert_eq!((counts[0].booked, counts[0].capacity), (3, 3));
    }
}

#[tokio::test]
async fn reminders_are_queued_once() {
    for backend in backends("reminders").await {
        let store = open(&backend.url).await;
        let office = store
            .office_of(&"131016".parse().unwrap())
            .await
            .unwrap()
            .id;
        let notice = found(&store, &notice_for_card(&store, "CARD-R", 1).await).await;
        store
            .book_appointment(
                &booking(&notice, office, START, false),
                &admin("public"),
                |_| None,
            )
            .await
            .unwrap();
        assert!(store.reminders_due(0, START).await.unwrap().is_empty());
        let due = store.reminders_due(START, START + 86_400).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].details.email.as_deref(), Some("CARD-R@example.jp"));
        let before = store.pending_mail().await.unwrap();
        let mail = maina_store::Mail {
            to: "CARD-R@example.jp".into(),
            subject: "reminder".into(),
            body: "tomorrow".into(),
        };
        let attachment = maina_store::Attachment {
            filename: "pickup.ics".into(),
            content_type: "text/calendar".into(),
            content: b"BEGIN:VCALENDAR".to_vec(),
        };
        let id = due[0].appointment.id;
        assert!(store
            .mark_reminded(id, Some((mail.clone(), Some(attachment.clone()))))
            .await
            .unwrap());
        assert!(!store.mark_reminded(id, Some((mail, None))).await.unwrap());
        assert_eq!(store.pending_mail().await.unwrap(), before + 1);
        assert!(store
            .reminders_due(START, START + 86_400)
            .await
            .unwrap()
            .is_empty());
        // The attachment comes back out of the outbox.
        let queued = store.due_mail(50).await.unwrap();
        let last = queued.last().unwrap();
        assert_eq!(
            last.attachment.as_ref(),
            Some(&attachment),
            "{}",
            backend.name
        );
    }
}
