//! Moving between municipalities with the card (転入届の特例, REFERENCE section 7).
//!
//! The resident registers the move-out at the old municipality with the card
//! (planned date, destination) instead of taking a paper moving-out certificate;
//! the move-in at the new municipality must come within
//! [`MOVE_IN_AFTER_MOVE_DAYS`] days of the actual move AND within
//! [`MOVE_IN_AFTER_PLANNED_DAYS`] days of the planned date, or the card is voided
//! (the move itself is still registered: the resident lives where they live). After
//! any move-in (with the card or with a paper certificate) the card's continued use
//! (継続利用) must be confirmed at the new municipality's counter within
//! [`CONTINUED_USE_DAYS`] days of the move-in, or the card is voided.
//!
//! Pure: the store keeps the pending move and applies what these rules decide.

use crate::id::MunicipalityCode;
use chrono::{Days, NaiveDate};

/// Days after the actual move within which the move-in is reported.
pub const MOVE_IN_AFTER_MOVE_DAYS: u64 = 14;
/// Days after the planned move-out date within which the move-in is reported.
pub const MOVE_IN_AFTER_PLANNED_DAYS: u64 = 30;
/// Days after the move-in within which continued use is confirmed.
pub const CONTINUED_USE_DAYS: u64 = 90;
/// How far from today a move-out's planned date may be: the notice is given up to
/// 14 days before moving, or within 14 days after.
pub const MOVE_OUT_WINDOW_DAYS: u64 = 14;

/// Why a card's move is refused or its card voided; each names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MovingError {
    #[error("the planned date must be within 14 days of today ({earliest} to {latest})")]
    PlannedDateOutOfWindow {
        earliest: NaiveDate,
        latest: NaiveDate,
    },
    #[error("the destination is the current municipality: use a change of address")]
    SameMunicipality,
    #[error("the move date {0} is in the future")]
    MoveInFuture(NaiveDate),
    #[error("the continued-use deadline passed on {0}: the card is void")]
    ContinuedUseDeadlinePassed(NaiveDate),
}

/// Why a card is voided by a move's deadlines (the card event's reason code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoidReason {
    /// The move-in came later than 14 days after the move or 30 after the planned date.
    LateMoveIn,
    /// Continued use was not confirmed within 90 days of the move-in.
    ContinuedUseMissed,
}

impl VoidReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::LateMoveIn => "move-in-late",
            Self::ContinuedUseMissed => "continued-use-missed",
        }
    }
}

/// A move-out registered with the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveOut {
    pub from: MunicipalityCode,
    pub destination: MunicipalityCode,
    pub planned: NaiveDate,
}

fn plus(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

impl MoveOut {
    /// A move-out notice given `today`, or why not.
    pub fn notify(
        from: MunicipalityCode,
        destination: MunicipalityCode,
        planned: NaiveDate,
        today: NaiveDate,
    ) -> Result<Self, MovingError> {
        if from == destination {
            return Err(MovingError::SameMunicipality);
        }
        let earliest = today
            .checked_sub_days(Days::new(MOVE_OUT_WINDOW_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let latest = plus(today, MOVE_OUT_WINDOW_DAYS);
        if planned < earliest || planned > latest {
            return Err(MovingError::PlannedDateOutOfWindow { earliest, latest });
        }
        Ok(Self {
            from,
            destination,
            planned,
        })
    }

    /// The last day a move-in keeps the card, whatever the actual move date: 30 days
    /// after the planned date (after it, the pending move voids the card).
    pub fn move_in_deadline(&self) -> NaiveDate {
        plus(self.planned, MOVE_IN_AFTER_PLANNED_DAYS)
    }

    /// What a move-in reported `today` for a move on `moved_on` does to the card.
    pub fn move_in(&self, moved_on: NaiveDate, today: NaiveDate) -> Result<MoveIn, MovingError> {
        if moved_on > today {
            return Err(MovingError::MoveInFuture(moved_on));
        }
        let in_time =
            today <= plus(moved_on, MOVE_IN_AFTER_MOVE_DAYS) && today <= self.move_in_deadline();
        Ok(if in_time {
            MoveIn::Kept {
                continued_use_by: continued_use_deadline(today),
            }
        } else {
            MoveIn::Voided(VoidReason::LateMoveIn)
        })
    }
}

/// What a move-in does to the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveIn {
    /// The card moves with its holder; continued use is due by this day.
    Kept { continued_use_by: NaiveDate },
    /// The card is voided.
    Voided(VoidReason),
}

/// The last day continued use may be confirmed after a move-in on `moved_in_on`.
pub fn continued_use_deadline(moved_in_on: NaiveDate) -> NaiveDate {
    plus(moved_in_on, CONTINUED_USE_DAYS)
}

/// Whether continued use confirmed `today` is in time (`due` is the deadline).
pub fn confirm_continued_use(due: NaiveDate, today: NaiveDate) -> Result<(), MovingError> {
    if today > due {
        Err(MovingError::ContinuedUseDeadlinePassed(due))
    } else {
        Ok(())
    }
}

/// Whether a pending move whose deadline is `due` voids the card `today` (the
/// background job's rule).
pub fn overdue(due: NaiveDate, today: NaiveDate) -> bool {
    today > due
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 4, 1).unwrap() + chrono::Duration::days(offset)
    }

    fn codes() -> (MunicipalityCode, MunicipalityCode) {
        ("131016".parse().unwrap(), "011002".parse().unwrap())
    }

    #[test]
    fn the_deadlines_are_14_30_and_90_days() {
        let (old, new) = codes();
        let out = MoveOut::notify(old, new, day(10), day(0)).unwrap();
        assert_eq!(
            out.move_in(day(10), day(24)).unwrap(),
            MoveIn::Kept {
                continued_use_by: day(24 + 90)
            }
        );
        // 15 days after the move.
        assert_eq!(
            out.move_in(day(10), day(25)).unwrap(),
            MoveIn::Voided(VoidReason::LateMoveIn)
        );
        // Moved late: within 14 days of the move but 31 after the planned date.
        assert_eq!(
            out.move_in(day(30), day(41)).unwrap(),
            MoveIn::Voided(VoidReason::LateMoveIn)
        );
        assert_eq!(out.move_in_deadline(), day(40));
        assert!(confirm_continued_use(day(90), day(90)).is_ok());
        assert_eq!(
            confirm_continued_use(day(90), day(91))
                .unwrap_err()
                .to_string(),
            format!(
                "the continued-use deadline passed on {}: the card is void",
                day(90)
            )
        );
        assert!(matches!(
            MoveOut::notify(old, new, day(15), day(0)),
            Err(MovingError::PlannedDateOutOfWindow { .. })
        ));
        assert_eq!(
            MoveOut::notify(old, old, day(1), day(0)),
            Err(MovingError::SameMunicipality)
        );
        assert_eq!(
            out.move_in(day(5), day(4)),
            Err(MovingError::MoveInFuture(day(5)))
        );
    }

    proptest! {
        #[test]
        fn a_move_in_keeps_the_card_exactly_when_both_deadlines_hold(
            planned in -14i64..=14, moved in -20i64..40, report in 0i64..60,
        ) {
            let (old, new) = codes();
            let out = MoveOut::notify(old, new, day(planned), day(0)).unwrap();
            let moved_on = day(moved);
            let today = day(moved + report);
            let outcome = out.move_in(moved_on, today).unwrap();
            let in_time = report <= 14 && (moved + report) - planned <= 30;
            prop_assert_eq!(matches!(outcome, MoveIn::Kept { .. }), in_time);
            if let MoveIn::Kept { continued_use_by } = outcome {
                prop_assert_eq!((continued_use_by - today).num_days(), 90);
                prop_assert!(confirm_continued_use(continued_use_by, today).is_ok());
                prop_assert!(!overdue(continued_use_by, continued_use_by));
                prop_assert!(overdue(continued_use_by, continued_use_by + chrono::Duration::days(1)));
            }
            // A move-in past the pending move's own deadline never keeps the card,
            // so the job may void it without waiting.
            if overdue(out.move_in_deadline(), today) {
                prop_assert!(!in_time);
            }
        }

        #[test]
        fn continued_use_is_refused_exactly_after_the_deadline(due in -100i64..100, today in -100i64..100) {
            prop_assert_eq!(confirm_continued_use(day(due), day(today)).is_ok(), today <= due);
        }
    }
}
