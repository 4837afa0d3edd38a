//! Unit tests of the person's facts: names, sex, nationality, residence status,
//! period of stay and eligibility.

use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn eligibility_rules() {
    let start = day("2026-04-01");
    let p = |s: &str| Some(s.parse::<PeriodOfStay>().unwrap());
    assert!(check_eligibility(ResidenceStatus::Student, p("1y"), start).is_ok());
    assert!(check_eligibility(ResidenceStatus::Student, p("3m1d"), start).is_ok());
    let err = check_eligibility(ResidenceStatus::Student, p("3m"), start).unwrap_err();
    assert_eq!(err.field, "period_of_stay");
    assert!(err.reason.contains("not more than 3 months"));
    assert!(check_eligibility(ResidenceStatus::DesignatedActivities, p("90d"), start).is_err());
    let err = check_eligibility(ResidenceStatus::TemporaryVisitor, p("1y"), start).unwrap_err();
    assert!(err.reason.contains("temporary visitors"));
    assert!(check_eligibility(ResidenceStatus::Diplomat, p("3y"), start).is_err());
    assert!(check_eligibility(ResidenceStatus::Official, p("3y"), start).is_err());
    assert_eq!(
        check_eligibility(ResidenceStatus::PermanentResident, None, start),
        Ok(None)
    );
    assert_eq!(
        check_eligibility(ResidenceStatus::Student, None, start)
            .unwrap_err()
            .field,
        "period_of_stay"
    );
}

#[test]
fn residence_status_names_round_trip() {
    for status in ResidenceStatus::ALL {
        assert_eq!(status.name().parse::<ResidenceStatus>(), Ok(status));
    }
    assert_eq!(
        "engineer_humanities_international".parse::<ResidenceStatus>(),
        Ok(ResidenceStatus::EngineerHumanitiesInternational)
    );
    assert!("tourist".parse::<ResidenceStatus>().is_err());
}

#[test]
fn names_are_checked_and_normalised() {
    let name = Name::japanese("山田", "太郎", "ﾔﾏﾀﾞ", "タロウ").unwrap();
    assert_eq!(name.to_string(), "山田 太郎 (ヤマダ タロウ)");
    assert_eq!(
        Name::japanese("山田", "太郎", "yamada", "タロウ")
            .unwrap_err()
            .field,
        "family_kana"
    );
    assert_eq!(
        Name::japanese("", "太郎", "ヤマダ", "タロウ")
            .unwrap_err()
            .field,
        "family_name"
    );
    let foreign = Name::foreign("Smith John", Some("佐藤 ジョン"), None).unwrap();
    assert_eq!(foreign.to_string(), "SMITH JOHN (alias 佐藤 ジョン)");
    assert!(Name::foreign("Sm1th", None, None).is_err());
}

#[test]
fn periods_parse() {
    assert_eq!("1y6m".parse::<PeriodOfStay>().unwrap().to_string(), "1y6m");
    for bad in ["", "y", "5", "5w", "1y-2m", "99y"] {
        assert!(bad.parse::<PeriodOfStay>().is_err(), "{bad}");
    }
}

#[test]
fn sex_and_nationality() {
    assert_eq!("F".parse::<Sex>(), Ok(Sex::Female));
    assert_eq!(Sex::NotApplicable.iso5218(), 9);
    assert!("x".parse::<Sex>().is_err());
    assert_eq!("vn".parse::<Nationality>().unwrap().as_str(), "VN");
    assert!("VNM".parse::<Nationality>().is_err());
}

#[test]
fn highly_skilled_professional_2_has_no_period_of_stay() {
    let start = day("2026-04-01");
    assert_eq!(
        check_eligibility(ResidenceStatus::HighlySkilledProfessional2, None, start),
        Ok(None)
    );
    assert_eq!(
        "highly-skilled-professional-2".parse::<ResidenceStatus>(),
        Ok(ResidenceStatus::HighlySkilledProfessional2)
    );
}
