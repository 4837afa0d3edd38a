//! The card's end and what comes before it (REFERENCE section 7): a renewal may be
//! applied for from three months before the card's last day ([`renewal_opens`]);
//! an expiry letter (有効期限通知書) is written two to three months before the card's
//! or the certificates' end ([`ExpiryEnd::nearest`]); and a card past its last day
//! is good for nothing, whatever its state ([`CardState::usable_on`]).

use super::CardState;
use chrono::{Days, Months, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// How long before the card's last day a renewal may be applied for.
pub const RENEWAL_WINDOW_MONTHS: u32 = 3;

/// The first day a renewal of a card ending on `last_day` may be applied for.
pub fn renewal_opens(last_day: NaiveDate) -> NaiveDate {
    last_day
        .checked_sub_months(Months::new(RENEWAL_WINDOW_MONTHS))
        .unwrap_or(NaiveDate::MIN)
}

/// A renewal applied for before its window opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too early: the card ends on {last_day}; its renewal can be applied for from {opens_on}")]
pub struct RenewalTooEarly {
    pub last_day: NaiveDate,
    pub opens_on: NaiveDate,
}

/// Whether a card ending on `last_day` may be renewed on `today`.
pub fn check_renewal(last_day: NaiveDate, today: NaiveDate) -> Result<(), RenewalTooEarly> {
    let opens_on = renewal_opens(last_day);
    if today < opens_on {
        Err(RenewalTooEarly { last_day, opens_on })
    } else {
        Ok(())
    }
}

impl CardState {
    /// Whether a card in this state, ending on `last_day` (`None`: a demonstration
    /// card without an end), is good on `date` for any relying party: active, and
    /// not past its last day (the card is valid up to and including it).
    pub fn usable_on(self, last_day: Option<NaiveDate>, date: NaiveDate) -> bool {
        self.usable() && last_day.is_none_or(|last| date <= last)
    }
}

/// How far ahead the expiry letters look: `90d`, `2w` or `3m` (days, weeks or
/// calendar months), at most a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookahead {
    Days(u32),
    Months(u32),
}

/// A look-ahead that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration: write a number and d, w or m (90d, 2w, 3m), at most a year")]
pub struct LookaheadError(pub String);

impl FromStr for Lookahead {
    type Err = LookaheadError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || LookaheadError(text.to_owned());
        let trimmed = text.trim();
        let unit = trimmed.chars().last().ok_or_else(error)?;
        let number = trimmed.get(..trimmed.len() - unit.len_utf8()).ok_or_else(error)?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || number.len() > 3 {
            return Err(error());
        }
        let count: u32 = number.parse().map_err(|_| error())?;
        let lookahead = match unit.to_ascii_lowercase() {
            'd' => Self::Days(count),
            'w' => Self::Days(count * 7),
            'm' => Self::Months(count),
            _ => return Err(error()),
        };
        match lookahead {
            Self::Days(1..=366) | Self::Months(1..=12) => Ok(lookahead),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Lookahead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(days) => write!(f, "{days}d"),
            Self::Months(months) => write!(f, "{months}m"),
        }
    }
}

impl Lookahead {
    /// The last day within the look-ahead from `today`.
    pub fn until(self, today: NaiveDate) -> NaiveDate {
        match self {
            Self::Days(days) => today.checked_add_days(Days::new(u64::from(days))),
            Self::Months(months) => today.checked_add_months(Months::new(months)),
        }
        .unwrap_or(NaiveDate::MAX)
    }
}

/// Which end an expiry letter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ExpiryEnd {
    /// The card itself (its certificates end with it): apply for a new card.
    Card,
    /// Only the certificates (five years after issue): renew them at the counter,
    /// on the same card.
    Certificates,
}

impl ExpiryEnd {
    pub fn code(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Certificates => "certificates",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Card, Self::Certificates]
            .into_iter()
            .find(|end| end.code() == code)
    }

    /// The end an expiry letter written on `today` looking up to `horizon` is
    /// about, and its day: the card's when it ends by then (the certificates end
    /// with it), else the certificates' (`certificates_end`: the earliest of the
    /// card's good certificates); nothing already past or beyond the horizon.
    pub fn nearest(
        card_end: NaiveDate,
        certificates_end: Option<NaiveDate>,
        today: NaiveDate,
        horizon: NaiveDate,
    ) -> Option<(ExpiryEnd, NaiveDate)> {
        let near = |day: NaiveDate| today <= day && day <= horizon;
        if near(card_end) {
            return Some((Self::Card, card_end));
        }
        match certificates_end {
            Some(day) if near(day) && day < card_end => Some((Self::Certificates, day)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_renewal_opens_three_months_before_the_last_day() {
        assert_eq!(renewal_opens(day(2036, 5, 31)), day(2036, 2, 29));
        assert_eq!(renewal_opens(day(2035, 5, 31)), day(2035, 2, 28));
        assert!(check_renewal(day(2036, 6, 1), day(2036, 3, 1)).is_ok());
        let early = check_renewal(day(2036, 6, 1), day(2036, 2, 29)).unwrap_err();
        assert_eq!(
            early.to_string(),
            "too early: the card ends on 2036-06-01; its renewal can be applied for from 2036-03-01"
        );
        // An expired card can still be renewed.
        assert!(check_renewal(day(2036, 6, 1), day(2036, 7, 1)).is_ok());
    }

    #[test]
    fn a_card_past_its_last_day_is_not_usable_in_any_state() {
        let last = Some(day(2030, 4, 1));
        assert!(CardState::Active.usable_on(last, day(2030, 4, 1)));
        assert!(!CardState::Active.usable_on(last, day(2030, 4, 2)));
        assert!(CardState::Active.usable_on(None, day(2099, 1, 1)));
        for state in CardState::ALL {
            assert!(!state.usable_on(last, day(2031, 1, 1)), "{state:?}");
        }
        assert!(!CardState::Suspended.usable_on(last, day(2029, 1, 1)));
    }

    #[test]
    fn lookaheads_parse_and_name_the_mistake() {
        assert_eq!("3m".parse(), Ok(Lookahead::Months(3)));
        assert_eq!("90d".parse(), Ok(Lookahead::Days(90)));
        assert_eq!("2w".parse(), Ok(Lookahead::Days(14)));
        assert_eq!(" 12M ".parse(), Ok(Lookahead::Months(12)));
        for bad in ["", "m", "3", "3y", "-3m", "13m", "0d", "367d", "3.5m", "1000d", "３m"] {
            let error = bad.parse::<Lookahead>().unwrap_err();
            assert!(error.to_string().contains("is not a duration"), "{bad}");
        }
        assert_eq!(Lookahead::Months(3).until(day(2026, 11, 30)), day(2027, 2, 28));
        assert_eq!(Lookahead::Days(90).until(day(2026, 1, 1)), day(2026, 4, 1));
        assert_eq!(Lookahead::Months(3).to_string(), "3m");
    }

    #[test]
    fn the_letter_is_about_the_card_when_it_ends_first() {
        let today = day(2030, 1, 10);
        let horizon = Lookahead::Months(3).until(today);
        assert_eq!(
            ExpiryEnd::nearest(day(2030, 3, 1), Some(day(2030, 3, 1)), today, horizon),
            Some((ExpiryEnd::Card, day(2030, 3, 1)))
        );
        assert_eq!(
            ExpiryEnd::nearest(day(2035, 3, 1), Some(day(2030, 3, 1)), today, horizon),
            Some((ExpiryEnd::Certificates, day(2030, 3, 1)))
        );
        assert_eq!(ExpiryEnd::nearest(day(2035, 3, 1), None, today, horizon), None);
        assert_eq!(
            ExpiryEnd::nearest(day(2030, 1, 9), Some(day(2030, 1, 9)), today, horizon),
            None
        );
    }

    proptest! {
        #[test]
        fn a_renewal_window_is_three_months_long_and_a_letter_within_the_lookahead(
            offset in 0i64..8_000,
            back in 0i64..200,
            months in 1u32..=12,
        ) {
            let last = day(2026, 1, 1) + chrono::Duration::days(offset);
            let today = last - chrono::Duration::days(back);
            let opens = renewal_opens(last);
            prop_assert!(opens < last);
            prop_assert!((last - opens).num_days() >= 89 && (last - opens).num_days() <= 92);
            prop_assert_eq!(check_renewal(last, today).is_ok(), today >= opens);
            let horizon = Lookahead::Months(months).until(today);
            if let Some((_, end)) = ExpiryEnd::nearest(last, None, today, horizon) {
                prop_assert!(today <= end && end <= horizon);
            }
            let parsed: Lookahead = format!("{months}m").parse().unwrap();
            prop_assert_eq!(parsed, Lookahead::Months(months));
        }
    }
}
