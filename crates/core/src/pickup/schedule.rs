//! An office's pickup schedule: opening hours, counters, slot length and the
//! booking window (REFERENCE section 7: appointments are *muni*; ours are set per
//! office by a supervisor).
//!
//! Opening hours are one compact text, e.g. `mon-fri 08:30-17:15; sat 09:00-12:00`
//! or with a lunch break `mon-fri 08:30-12:00 13:00-17:15`: clauses separated by
//! `;`, each a day or a range of days (`mon`..`sun`) and one or more `HH:MM-HH:MM`
//! intervals. A day no clause names is closed (so weekends are closed unless
//! listed), and so is the year-end break, 29 December to 3 January.
//!
//! Times are Japan's (UTC+9, no daylight saving): a slot's start is also given as
//! Unix seconds, the one form the store keeps.

use crate::FieldError;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use std::fmt;

/// Japan Standard Time, UTC+9 (the fallback, UTC, is never taken: 9 hours is a
/// valid offset).
pub fn japan() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or(Utc.fix())
}

/// Limits on what a supervisor may set.
pub const MAX_COUNTERS: u32 = 50;
pub const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;
pub const MAX_BOOKING_DAYS: u32 = 366;

/// The days of the week as written in the hours text.
const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// One opening interval of a day, `open` before `close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// Opening hours per weekday (index 0 = Monday), each day's intervals in order and
/// not overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    days: [Vec<Interval>; 7],
}

fn hours_error(reason: String) -> FieldError {
    FieldError::new("hours", reason)
}

fn parse_day(text: &str, clause: usize) -> Result<Weekday, FieldError> {
    DAYS.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, day)| *day)
        .ok_or_else(|| {
            hours_error(format!(
                "clause {clause}: {text:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"
            ))
        })
}

fn parse_time(text: &str, clause: usize) -> Result<NaiveTime, FieldError> {
    let bad = || hours_error(format!("clause {clause}: {text:?} is not a time HH:MM"));
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u32 = hours.parse().map_err(|_| bad())?;
    let minutes: u32 = minutes.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(hours, minutes, 0).ok_or_else(bad)
}

impl OpeningHours {
    /// Parses the hours text; an error names the clause and what is wrong in it.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let mut hours = Self::default();
        let clauses: Vec<&str> = text
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if clauses.is_empty() {
            return Err(hours_error(
                "is empty: give e.g. \"mon-fri 08:30-17:15\"".into(),
            ));
        }
        for (index, clause_text) in clauses.iter().enumerate() {
            let clause = index + 1;
            let mut words = clause_text.split_whitespace();
            let days = words.next().unwrap_or_default();
            let (first, last) = match days.split_once('-') {
                Some((first, last)) => (parse_day(first, clause)?, parse_day(last, clause)?),
                None => {
                    let day = parse_day(days, clause)?;
                    (day, day)
                }
            };
            let (from, to) = (first.num_days_from_monday(), last.num_days_from_monday());
            if from > to {
                return Err(hours_error(format!(
                    "clause {clause}: the days {days:?} run backwards (write e.g. mon-fri)"
                )));
            }
            let mut intervals = Vec::new();
            for interval in words {
                let (open, close) = interval.split_once('-').ok_or_else(|| {
                    hours_error(format!(
                        "clause {clause}: {interval:?} is not an interval HH:MM-HH:MM"
                    ))
                })?;
                let open = parse_time(open, clause)?;
                let close = parse_time(close, clause)?;
                if open >= close {
                    return Err(hours_error(format!(
                        "clause {clause}: {interval:?} closes before it opens"
                    )));
                }
                intervals.push(Interval { open, close });
            }
            if intervals.is_empty() {
                return Err(hours_error(format!(
                    "clause {clause}: {days:?} has no hours (write e.g. {days} 08:30-17:15)"
                )));
            }
            for day in from..=to {
                let slot = hours
                    .days
                    .get_mut(day as usize)
                    .ok_or_else(|| hours_error(format!("clause {clause}: day out of range")))?;
                if !slot.is_empty() {
                    let name = DAYS.get(day as usize).map_or("?", |(name, _)| *name);
                    return Err(hours_error(format!(
                        "clause {clause}: {name} is already given by an earlier clause"
                    )));
                }
                slot.clone_from(&intervals);
                slot.sort_by_key(|i| i.open);
                if slot.windows(2).any(|pair| match pair {
                    [a, b] => b.open < a.close,
                    _ => false,
                }) {
                    return Err(hours_error(format!(
                        "clause {clause}: its intervals overlap"
                    )));
                }
            }
        }
        Ok(hours)
    }

    /// The intervals of a weekday (empty: closed).
    pub fn on(&self, day: Weekday) -> &[Interval] {
        self.days
            .get(day.num_days_from_monday() as usize)
            .map_or(&[], Vec::as_slice)
    }
}

/// The canonical text: equal hours give equal text, and it parses back to them.
impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut clauses: Vec<String> = Vec::new();
        let mut index = 0usize;
        while index < 7 {
            let intervals = self.days.get(index).map_or(&[][..], Vec::as_slice);
            if intervals.is_empty() {
                index += 1;
                continue;
            }
            let mut end = index;
            while self.days.get(end + 1).is_some_and(|next| next == intervals) {
                end += 1;
            }
            let name = |i: usize| DAYS.get(i).map_or("?", |(name, _)| *name);
            let days = if end == index {
                name(index).to_owned()
            } else {
                format!("{}-{}", name(index), name(end))
            };
            let times: Vec<String> = intervals
                .iter()
                .map(|i| format!("{}-{}", i.open.format("%H:%M"), i.close.format("%H:%M")))
                .collect();
            clauses.push(format!("{days} {}", times.join(" ")));
            index = end + 1;
        }
        f.write_str(&clauses.join("; "))
    }
}

/// Whether `date` falls in the year-end break (29 December to 3 January), when
/// offices are closed whatever their hours say.
pub fn year_end_break(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (12, 29..=31) | (1, 1..=3))
}

/// Why a slot cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotRefusal {
    #[error("the office is closed on {0}")]
    Closed(NaiveDate),
    #[error("{0} is not the start of one of the day's slots")]
    NotASlot(NaiveDateTime),
    #[error("slots can be booked from {from} to {to} days ahead")]
    OutsideWindow { from: u32, to: u32 },
    #[error("that time has passed")]
    Past,
}

/// An office's schedule, every value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub hours: OpeningHours,
    /// Residents served at once (one per counter seat) in a slot.
    pub counters: u32,
    pub slot_minutes: u32,
    /// The booking window: from `book_from_days` to `book_to_days` days ahead.
    pub book_from_days: u32,
    pub book_to_days: u32,
}

impl Schedule {
    /// The default office schedule: weekdays 08:30–17:15, two counters, 15-minute
    /// slots, bookable 1 to 30 days ahead *(our design)*.
    pub const DEFAULT_HOURS: &'static str = "mon-fri 08:30-17:15";
    pub const DEFAULT_COUNTERS: u32 = 2;
    pub const DEFAULT_SLOT_MINUTES: u32 = 15;
    pub const DEFAULT_BOOK_FROM_DAYS: u32 = 1;
    pub const DEFAULT_BOOK_TO_DAYS: u32 = 30;

    /// Checks every value; an error names the field.
    pub fn new(
        hours: &str,
        counters: u32,
        slot_minutes: u32,
        book_from_days: u32,
        book_to_days: u32,
    ) -> Result<Self, FieldError> {
        let hours = OpeningHours::parse(hours)?;
        if !(1..=MAX_COUNTERS).contains(&counters) {
            return Err(FieldError::new(
                "counters",
                format!("must be 1 to {MAX_COUNTERS}"),
            ));
        }
        if !SLOT_MINUTES.contains(&slot_minutes) {
            return Err(FieldError::new(
                "slot_minutes",
                format!(
                    "must be {} to {} minutes",
                    SLOT_MINUTES.start(),
                    SLOT_MINUTES.end()
                ),
            ));
        }
        if book_to_days > MAX_BOOKING_DAYS {
            return Err(FieldError::new(
                "book_to_days",
                format!("must be at most {MAX_BOOKING_DAYS}"),
            ));
        }
        if book_from_days > book_to_days {
            return Err(FieldError::new(
                "book_from_days",
                "must not be after book_to_days",
            ));
        }
        Ok(Self {
            hours,
            counters,
            slot_minutes,
            book_from_days,
            book_to_days,
        })
    }

    /// The default schedule.
    pub fn default_schedule() -> Self {
        Self {
            hours: OpeningHours {
                days: std::array::from_fn(|day| {
                    if day < 5 {
                        vec![Interval {
                            open: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default(),
                            close: NaiveTime::from_hms_opt(17, 15, 0).unwrap_or_default(),
                        }]
                    } else {
                        Vec::new()
                    }
                }),
            },
            counters: Self::DEFAULT_COUNTERS,
            slot_minutes: Self::DEFAULT_SLOT_MINUTES,
            book_from_days: Self::DEFAULT_BOOK_FROM_DAYS,
            book_to_days: Self::DEFAULT_BOOK_TO_DAYS,
        }
    }

    /// Whether the office is closed all day.
    pub fn closed_on(&self, date: NaiveDate) -> bool {
        year_end_break(date) || self.hours.on(date.weekday()).is_empty()
    }

    /// The start times of the day's slots: every `slot_minutes` from each opening,
    /// while the slot ends by the closing time.
    pub fn slots_on(&self, date: NaiveDate) -> Vec<NaiveTime> {
        if self.closed_on(date) {
            return Vec::new();
        }
        let step = self.slot_minutes.max(1) * 60;
        let mut starts = Vec::new();
        for interval in self.hours.on(date.weekday()) {
            let close = interval.close.num_seconds_from_midnight();
            let mut start = interval.open.num_seconds_from_midnight();
            while start + step <= close {
                if let Some(time) = NaiveTime::from_num_seconds_from_midnight_opt(start, 0) {
                    starts.push(time);
                }
                start += step;
            }
        }
        starts
    }

    /// The first and last days a resident may book on `today`.
    pub fn window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        (
            today + Duration::days(i64::from(self.book_from_days)),
            today + Duration::days(i64::from(self.book_to_days)),
        )
    }

    /// Whether a slot starting at `start` (Japan time) may be booked at `now`.
    pub fn check_slot(
        &self,
        start: NaiveDateTime,
        now: DateTime<FixedOffset>,
    ) -> Result<(), SlotRefusal> {
        let date = start.date();
        let today = now.with_timezone(&japan()).date_naive();
        let (first, last) = self.window(today);
        if date < first || date > last {
            return Err(SlotRefusal::OutsideWindow {
                from: self.book_from_days,
                to: self.book_to_days,
            });
        }
        if self.closed_on(date) {
            return Err(SlotRefusal::Closed(date));
        }
        if !self.slots_on(date).contains(&start.time()) {
            return Err(SlotRefusal::NotASlot(start));
        }
        if start_seconds(start) <= now.timestamp() {
            return Err(SlotRefusal::Past);
        }
        Ok(())
    }
}

/// A Japan-time start as Unix seconds.
pub fn start_seconds(start: NaiveDateTime) -> i64 {
    start.and_utc().timestamp() - i64::from(japan().local_minus_utc())
}

/// Unix seconds as a Japan-time start.
pub fn start_time(seconds: i64) -> Option<NaiveDateTime> {
    japan()
        .timestamp_opt(seconds, 0)
        .single()
        .map(|time| time.naive_local())
}

/// Parses a slot start as a resident's page or client sends it: `YYYY-MM-DDTHH:MM`
/// (Japan time, seconds optional), for `field`.
pub fn parse_start(field: &'static str, text: &str) -> Result<NaiveDateTime, FieldError> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldError::new(field, "is not a time of the form YYYY-MM-DDTHH:MM"))
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
