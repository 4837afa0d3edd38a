//! How long a card and its certificates are valid (REFERENCE sections 2 and 7).
//!
//! - The card: until the 10th birthday after the day of issue for a holder 18 or
//!   older on that day, the 5th for a younger one; for a foreign resident whose stay
//!   has an end (every residence status but permanent resident, Highly Skilled
//!   Professional (ii) and special permanent resident) never beyond the last day of
//!   the period of stay. Extending the stay later does not extend the card.
//! - Both certificates: until the 5th birthday after issue at any age, never beyond
//!   the card.
//!
//! A birthday that is 29 February falls on 28 February in common years. Under the
//! Act on the Calculation of Age (年齢計算ニ関スル法律) age is counted from the day of
//! birth by the Civil Code's rules for periods: by art. 143 a period of years ends on
//! the day before the day corresponding to its first day, and when the last month
//! has no corresponding day (no 29 February in a common year) it ends on that month's
//! last day. Someone born on 29 February therefore completes each year of age at the
//! end of 28 February in a common year, and that is the day we take as the
//! birthday: the card is valid up to and including it. (The day of issue counts
//! the same way: a card issued on the holder's birthday reaches its first birthday
//! a year later.)

use crate::person::{Citizenship, FieldError};
use chrono::{Datelike, NaiveDate};

/// The end of the period of stay that caps a card, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayLimit {
    /// Japanese nationals, permanent residents, Highly Skilled Professionals (ii) and
    /// special permanent residents: the card ends on its birthday alone.
    Unlimited,
    /// Other foreign residents: the card ends on this day at the latest (the last day
    /// of the authorised stay).
    Until(NaiveDate),
}

impl StayLimit {
    /// The limit for a resident's citizenship. A foreign resident whose residence
    /// status has a period of stay but whose record holds no end of it cannot be
    /// given a card (the error names the field to correct).
    pub fn of(citizenship: &Citizenship) -> Result<Self, FieldError> {
        match citizenship {
            Citizenship::Japanese => Ok(Self::Unlimited),
            Citizenship::Foreign {
                residence_status, ..
            } if residence_status.is_indefinite() => Ok(Self::Unlimited),
            Citizenship::Foreign {
                stay_until: Some(until),
                ..
            } => Ok(Self::Until(*until)),
            Citizenship::Foreign {
                residence_status, ..
            } => Err(FieldError::new(
                "stay_until",
                format!(
                    "is needed for a card: the residence status {} has a period of stay",
                    residence_status.name()
                ),
            )),
        }
    }
}

/// The corresponding day of `birth` in `year` (28 February for 29 February in a
/// common year; see the module's documentation).
fn birthday_in(birth: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, birth.month(), birth.day().saturating_sub(1)))
}

/// The `years`-th birthday strictly after `issued` (a birthday on the day of issue
/// does not count).
fn birthday_after(birth: NaiveDate, issued: NaiveDate, years: i32) -> Option<NaiveDate> {
    let this_year = birthday_in(birth, issued.year())?;
    let first = if this_year > issued {
        issued.year()
    } else {
        issued.year() + 1
    };
    birthday_in(birth, first + years - 1)
}

/// Age in completed years on the day `on` (a year is completed on the birthday; for
/// a 29 February birth, on 1 March in a common year, as the module explains).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    on.year() - birth.year() - i32::from((on.month(), on.day()) < (birth.month(), birth.day()))
}

/// The card's last valid day, for a card issued on `issued`: the 10th birthday after
/// issue (the 5th if the holder is under 18 on the day of issue), capped at the end
/// of the period of stay. `None` when the stay ends on or before the day of issue (no
/// card can be made) or the date is out of range.
pub fn card_expiry(birth: NaiveDate, issued: NaiveDate, stay: StayLimit) -> Option<NaiveDate> {
    let years = if age_on(birth, issued) >= 18 { 10 } else { 5 };
    let birthday = birthday_after(birth, issued, years)?;
    let expiry = match stay {
        StayLimit::Unlimited => birthday,
        StayLimit::Until(until) => birthday.min(until),
    };
    (expiry > issued).then_some(expiry)
}

/// The last day of both certificates, at any age: the 5th birthday after issue.
/// Callers that know the card's expiry use [`certificates_expiry`], which caps it.
pub fn certificate_expiry(birth: NaiveDate, issued: NaiveDate) -> Option<NaiveDate> {
    birthday_after(birth, issued, 5)
}

/// The last day of both certificates of a card that expires on `card_expires`: the
/// 5th birthday after issue, never beyond the card. `None` when the card has already
/// expired on the day of issue or the date is out of range.
pub fn certificates_expiry(
    birth: NaiveDate,
    issued: NaiveDate,
    card_expires: NaiveDate,
) -> Option<NaiveDate> {
    let expiry = certificate_expiry(birth, issued)?.min(card_expires);
    (expiry > issued).then_some(expiry)
}

/// Whether a signature certificate may be issued: not to children under 15.
pub fn signature_certificate_allowed(birth: NaiveDate, issued: NaiveDate) -> bool {
    age_on(birth, issued) >= 15
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::person::{Nationality, ResidenceStatus};
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn foreign(status: ResidenceStatus, until: Option<NaiveDate>) -> Citizenship {
        Citizenship::Foreign {
            nationality: Nationality::JAPAN,
            passport: "TK1234567".into(),
            residence_status: status,
            period_of_stay: None,
            stay_until: until,
        }
    }

    #[test]
    fn certificates_end_on_the_fifth_birthday_after_issue() {
        // (birth date, issued, expiry)
        for (birth, issued, expiry) in [
            ((1990, 4, 1), (2026, 11, 25), (2031, 4, 1)),
            // Issued on the birthday itself: the next birthday is a year later.
            ((1990, 11, 25), (2026, 11, 25), (2031, 11, 25)),
            ((1990, 12, 1), (2026, 11, 25), (2030, 12, 1)),
            ((2000, 2, 29), (2026, 3, 1), (2031, 2, 28)),
        ] {
            let [birth, issued, expiry] = [birth, issued, expiry].map(|(y, m, d)| date(y, m, d));
            assert_eq!(
                certificate_expiry(birth, issued),
                Some(expiry),
                "born {birth}, issued {issued}"
            );
        }
        assert!(signature_certificate_allowed(
            date(2011, 11, 25),
            date(2026, 11, 25)
        ));
        assert!(!signature_certificate_allowed(
            date(2011, 11, 26),
            date(2026, 11, 25)
        ));
    }

    #[test]
    fn cards_last_ten_birthdays_for_adults_and_five_for_minors() {
        let none = StayLimit::Unlimited;
        // (birth, issued, card expiry)
        for (birth, issued, expiry) in [
            ((1990, 4, 1), (2026, 11, 25), (2036, 4, 1)),
            // 18 on the day of issue (the birthday): 10 years, counted from next year.
            ((2008, 11, 25), (2026, 11, 25), (2036, 11, 25)),
            // 18 tomorrow: under 18 at issue, 5 years.
            ((2008, 11, 26), (2026, 11, 25), (2030, 11, 26)),
            ((2020, 1, 10), (2026, 11, 25), (2031, 1, 10)),
            // Born on 29 February: 28 February in common years, 29th in leap years.
            ((2000, 2, 29), (2026, 3, 1), (2036, 2, 29)),
            ((2000, 2, 29), (2027, 3, 1), (2037, 2, 28)),
            ((2012, 2, 29), (2026, 3, 1), (2031, 2, 28)),
            // Issued on 28 February of a common year to a 29 February child: that day
            // is the birthday and does not count.
            ((2012, 2, 29), (2027, 2, 28), (2032, 2, 29)),
            // Issued on 29 February itself.
            ((1996, 2, 29), (2028, 2, 29), (2038, 2, 28)),
        ] {
            let [birth, issued, expiry] = [birth, issued, expiry].map(|(y, m, d)| date(y, m, d));
            assert_eq!(
                card_expiry(birth, issued, none),
                Some(expiry),
                "born {birth}, issued {issued}"
            );
        }
        // A 29 February child turns 18 on 1 March in a common year.
        assert_eq!(age_on(date(2008, 2, 29), date(2026, 2, 28)), 17);
        assert_eq!(age_on(date(2008, 2, 29), date(2026, 3, 1)), 18);
    }

    #[test]
    fn the_period_of_stay_caps_the_card_and_the_certificates() {
        let birth = date(1990, 4, 1);
        let issued = date(2026, 11, 25);
        let until = date(2028, 3, 31);
        let capped = StayLimit::of(&foreign(ResidenceStatus::Student, Some(until))).unwrap();
        assert_eq!(capped, StayLimit::Until(until));
        let card = card_expiry(birth, issued, capped).unwrap();
        assert_eq!(card, until);
        assert_eq!(certificates_expiry(birth, issued, card), Some(until));
        // A stay ending after the birthday does not lengthen the card.
        assert_eq!(
            card_expiry(birth, issued, StayLimit::Until(date(2040, 1, 1))),
            Some(date(2036, 4, 1))
        );
        // A stay that ended (or ends on the day of issue) gives no card.
        assert_eq!(card_expiry(birth, issued, StayLimit::Until(issued)), None);
        // Statuses without a period of stay are not capped, whatever the record says.
        for status in [
            ResidenceStatus::PermanentResident,
            ResidenceStatus::SpecialPermanentResident,
            ResidenceStatus::HighlySkilledProfessional2,
        ] {
            assert_eq!(
                StayLimit::of(&foreign(status, Some(until))),
                Ok(StayLimit::Unlimited)
            );
        }
        assert_eq!(
            StayLimit::of(&Citizenship::Japanese),
            Ok(StayLimit::Unlimited)
        );
        let missing = StayLimit::of(&foreign(ResidenceStatus::Student, None)).unwrap_err();
        assert_eq!(missing.field, "stay_until");
        // Certificates: the 5th birthday, within a 10-year card.
        assert_eq!(
            certificates_expiry(birth, issued, date(2036, 4, 1)),
            Some(date(2031, 4, 1))
        );
    }

    fn any_date(from: i32, to: i32) -> impl Strategy<Value = NaiveDate> {
        (from..to, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
            (0..4)
                .find_map(|back| NaiveDate::from_ymd_opt(y, m, d - back))
                .unwrap()
        })
    }

    proptest! {
        #[test]
        fn expiry_is_after_issue_and_within_the_stay(
            birth in any_date(1900, 2026),
            issued_offset in 0i64..40_000,
            stay_days in proptest::option::of(-400i64..8_000),
        ) {
            let issued = birth + chrono::Duration::days(issued_offset);
            let stay = match stay_days {
                Some(days) => StayLimit::Until(issued + chrono::Duration::days(days)),
                None => StayLimit::Unlimited,
            };
            let expiry = card_expiry(birth, issued, stay);
            match (expiry, stay) {
                (None, StayLimit::Until(until)) => prop_assert!(until <= issued),
                (None, StayLimit::Unlimited) => prop_assert!(false, "no expiry for {birth} {issued}"),
                (Some(expiry), _) => {
                    prop_assert!(expiry > issued);
                    if let StayLimit::Until(until) = stay {
                        prop_assert!(expiry <= until);
                    }
                    let years = if age_on(birth, issued) >= 18 { 10 } else { 5 };
                    let uncapped = birthday_after(birth, issued, years).unwrap();
                    prop_assert!(expiry <= uncapped);
                    if stay == StayLimit::Unlimited {
                        prop_assert_eq!(expiry, uncapped);
                        // The birthday's month and day (28 Feb for 29 Feb in common years).
                        prop_assert_eq!(expiry.month(), birth.month());
                        prop_assert!(expiry.day() == birth.day() || (birth.day() == 29 && expiry.day() == 28));
                        // Within `years` years of issue and more than `years - 1`:
                        // a minor's card is a 5-year card.
                        prop_assert!(expiry - issued <= chrono::Duration::days(366 * i64::from(years)));
                        prop_assert!(expiry - issued > chrono::Duration::days(365 * i64::from(years - 1)));
                    }
                    let certificates = certificates_expiry(birth, issued, expiry).unwrap();
                    prop_assert!(certificates > issued && certificates <= expiry);
                    prop_assert!(certificates - issued <= chrono::Duration::days(366 * 5));
                }
            }
        }
    }
}
