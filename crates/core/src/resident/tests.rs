//! Unit and property tests of registration forms and the resident record's
//! state machine.

use super::*;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

pub(crate) fn japanese_form() -> RegistrationForm {
    RegistrationForm {
        municipality: Some("131016".into()),
        reason: Some("move-in-from-abroad".into()),
        family_name: Some("山田".into()),
        given_name: Some("花子".into()),
        family_kana: Some("ヤマダ".into()),
        given_kana: Some("ハナコ".into()),
        birth_date: Some("1990-04-01".into()),
        sex: Some("female".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        ..Default::default()
    }
}

fn foreign_form() -> RegistrationForm {
    RegistrationForm {
        municipality: Some("131016".into()),
        reason: Some("move-in-from-abroad".into()),
        alphabet_name: Some("NGUYEN VAN AN".into()),
        birth_date: Some("1998-02-03".into()),
        sex: Some("male".into()),
        address: Some("東京都千代田区神田1-2-3".into()),
        nationality: Some("VN".into()),
        passport: Some("C1234567".into()),
        residence_status: Some("technical-intern-training".into()),
        period_of_stay: Some("1y".into()),
        ..Default::default()
    }
}

#[test]
fn forms_parse() {
    let registration = japanese_form().parse(today()).unwrap();
    assert_eq!(registration.person.citizenship, Citizenship::Japanese);
    let registration = foreign_form().parse(today()).unwrap();
    assert!(registration
        .person
        .foreign_identity()
        .unwrap()
        .starts_with("foreign|VN|C1234567|"));
}

#[test]
fn forms_name_the_field_at_fault() {
    let mut form = japanese_form();
    form.municipality = Some("131017".into());
    let err = form.parse(today()).unwrap_err();
    assert_eq!(err.field, "municipality");
    assert!(err.reason.contains("expected 6"), "{err}");

    let mut form = foreign_form();
    form.residence_status = Some("temporary-visitor".into());
    assert_eq!(form.parse(today()).unwrap_err().field, "residence_status");

    let mut form = foreign_form();
    form.passport = None;
    assert_eq!(
        form.parse(today()).unwrap_err().to_string(),
        "passport: is required"
    );

    let mut form = japanese_form();
    form.passport = Some("X1".into());
    assert_eq!(form.parse(today()).unwrap_err().field, "passport");

    let mut form = japanese_form();
    form.reason = Some("birth".into());
    assert_eq!(form.parse(today()).unwrap_err().field, "birth_date");

    let mut form = japanese_form();
    form.birth_date = Some("2026-02-30".into());
    assert_eq!(form.parse(today()).unwrap_err().field, "birth_date");
}

fn record() -> ResidentRecord {
    ResidentRecord::registered(&japanese_form().parse(today()).unwrap())
}

#[test]
fn lifecycle() {
    let r = record();
    let departed = ResidentEvent::Departed { date: today() }.apply(&r).unwrap();
    assert_eq!(departed.status, ResidentStatus::Departed);
    let err = ResidentEvent::AddressChanged {
        date: today(),
        address: Address::parse("x").unwrap(),
    }
    .apply(&departed)
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the resident is departed: address-changed is not possible"
    );
    let back = ResidentEvent::Returned {
        registration: japanese_form().parse(today()).unwrap(),
    }
    .apply(&departed)
    .unwrap();
    assert_eq!(back.status, ResidentStatus::Active);
    let dead = ResidentEvent::Died { date: today() }.apply(&back).unwrap();
    assert!(ResidentEvent::Departed { date: today() }
        .apply(&dead)
        .is_err());
}

fn any_event() -> impl Strategy<Value = ResidentEvent> {
    let date = (0u64..400).prop_map(|d| today() + chrono::Days::new(d));
    prop_oneof![
        date.clone()
            .prop_map(|date| ResidentEvent::Departed { date }),
        date.clone().prop_map(|date| ResidentEvent::Died { date }),
        (date.clone(), "[a-z]{1,8}").prop_map(|(date, a)| ResidentEvent::AddressChanged {
            date,
            address: Address::parse(&a).unwrap()
        }),
        (
            date.clone(),
            prop::sample::select(vec!["011002", "131130", "131016"])
        )
            .prop_map(|(date, m)| {
                ResidentEvent::Moved {
                    date,
                    municipality: m.parse().unwrap(),
                    address: Address::parse("somewhere").unwrap(),
                }
            }),
        date.clone().prop_map(|date| ResidentEvent::Returned {
            registration: Registration {
                date,
                ..japanese_form().parse(today()).unwrap()
            }
        }),
        date.prop_map(|date| ResidentEvent::NumberChanged {
            date,
            reason: NumberChangeReason::parse("leak").unwrap(),
            retired_key: 1,
            new_key: 2
        }),
    ]
}

proptest! {
    /// Whatever events arrive, in any order: deceased is terminal, a departed
    /// resident only comes back through a return, dates never go backwards,
    /// and a refused event changes nothing.
    #[test]
    fn state_machine_invariants(events in prop::collection::vec(any_event(), 0..30)) {
        let mut current = record();
        for event in events {
            if let Ok(next) = event.apply(&current) {
                prop_assert!(current.status != ResidentStatus::Deceased);
                prop_assert!(next.since >= current.since);
                if current.status == ResidentStatus::Departed {
                    let allowed = matches!(event, ResidentEvent::Returned { .. } | ResidentEvent::NumberChanged { .. });
                    prop_assert!(allowed);
                }
                current = next;
            }
        }
    }

    /// Parsing a form never panics, whatever the fields hold.
    #[test]
    fn form_parsing_total(fields in prop::collection::vec(prop::option::of(".{0,12}"), 17)) {
        let mut it = fields.into_iter();
        let mut next = || it.next().flatten();
        let form = RegistrationForm {
            municipality: next(), reason: next(), family_name: next(), given_name: next(),
            family_kana: next(), given_kana: next(), alphabet_name: next(), alias: next(),
            name_kana: next(), birth_date: next(), sex: next(), address: next(),
            nationality: next(), passport: next(), residence_status: next(),
            period_of_stay: next(), prior_resident_code: next(),
        };
        let _ = form.parse(today());
    }
}
