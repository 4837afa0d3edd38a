use super::*;
use proptest::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn parses_hours_with_ranges_single_days_and_breaks() {
    let hours = OpeningHours::parse("mon-fri 08:30-12:00 13:00-17:15; sat 09:00-12:00").unwrap();
    assert_eq!(hours.on(Weekday::Wed).len(), 2);
    assert_eq!(hours.on(Weekday::Sat)[0].open, time(9, 0));
    assert!(hours.on(Weekday::Sun).is_empty());
    assert_eq!(
        hours.to_string(),
        "mon-fri 08:30-12:00 13:00-17:15; sat 09:00-12:00"
    );
    // Case and spacing do not matter; the canonical text does not change.
    let loose = OpeningHours::parse("  MON-Fri   08:30-17:15 ;; ").unwrap();
    assert_eq!(loose.to_string(), "mon-fri 08:30-17:15");
}

#[test]
fn hours_errors_name_the_field_the_clause_and_the_mistake() {
    let cases = [
        ("", "is empty"),
        ("mon-fri", "clause 1: \"mon-fri\" has no hours"),
        (
            "mon-fri 8:30-17:15",
            "clause 1: \"8:30\" is not a time HH:MM",
        ),
        (
            "mon-fri 08:30-17:15; sun 09:00",
            "clause 2: \"09:00\" is not an interval",
        ),
        ("fri-mon 08:30-17:15", "run backwards"),
        ("mon-fry 08:30-17:15", "\"fry\" is not a day"),
        ("mon 17:00-09:00", "closes before it opens"),
        ("mon 09:00-12:00 11:00-13:00", "its intervals overlap"),
        (
            "mon-fri 09:00-12:00; wed 13:00-15:00",
            "clause 2: wed is already given",
        ),
        ("mon 24:00-25:00", "is not a time HH:MM"),
    ];
    for (text, expected) in cases {
        let error = OpeningHours::parse(text).unwrap_err();
        assert_eq!(error.field, "hours", "{text}");
        assert!(
            error.reason.contains(expected),
            "{text:?}: {} does not contain {expected:?}",
            error.reason
        );
    }
}

#[test]
fn slots_fill_each_interval_and_never_run_past_closing() {
    let schedule = Schedule::new("mon-fri 08:30-12:00 13:00-17:15", 2, 30, 1, 30).unwrap();
    // 2026-12-01 is a Tuesday.
    let slots = schedule.slots_on(date(2026, 12, 1));
    assert_eq!(slots.first(), Some(&time(8, 30)));
    assert!(slots.contains(&time(11, 30)));
    assert!(!slots.contains(&time(12, 0)));
    assert!(slots.contains(&time(13, 0)));
    // 16:30-17:00 fits; 17:00-17:30 would end after 17:15.
    assert_eq!(slots.last(), Some(&time(16, 30)));
    assert_eq!(slots.len(), 7 + 8);
}

#[test]
fn weekends_unless_listed_and_the_year_end_break_are_closed() {
    let weekdays = Schedule::default_schedule();
    assert!(weekdays.closed_on(date(2026, 12, 5))); // Saturday
    assert!(weekdays.slots_on(date(2026, 12, 6)).is_empty()); // Sunday
    let saturdays = Schedule::new("mon-sat 09:00-12:00", 1, 15, 1, 30).unwrap();
    assert!(!saturdays.closed_on(date(2026, 12, 5)));
    for (m, d) in [(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)] {
        let day = date(2027, m, d);
        assert!(year_end_break(day), "{day}");
        assert!(saturdays.slots_on(day).is_empty(), "{day}");
    }
    assert!(!saturdays.closed_on(date(2027, 1, 4)));
    assert!(!saturdays.closed_on(date(2026, 12, 28)));
}

#[test]
fn the_booking_window_and_the_slot_grid_are_enforced() {
    let schedule = Schedule::default_schedule();
    // Now: Tuesday 2026-12-01 10:00 in Japan.
    let now = japan().with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let at = |d: NaiveDate, h, m| d.and_time(time(h, m));
    assert_eq!(
        schedule.check_slot(at(date(2026, 12, 2), 9, 0), now),
        Ok(())
    );
    assert!(matches!(
        schedule.check_slot(at(date(2026, 12, 1), 15, 0), now),
        Err(SlotRefusal::OutsideWindow { from: 1, to: 30 })
    ));
    assert!(matches!(
        schedule.check_slot(at(date(2027, 1, 1), 9, 0), now),
        Err(SlotRefusal::OutsideWindow { .. })
    ));
    assert_eq!(
        schedule.check_slot(at(date(2026, 12, 5), 9, 0), now),
        Err(SlotRefusal::Closed(date(2026, 12, 5)))
    );
    assert!(matches!(
        schedule.check_slot(at(date(2026, 12, 2), 9, 5), now),
        Err(SlotRefusal::NotASlot(_))
    ));
    assert_eq!(schedule.check_slot(at(date(2026, 12, 31), 9, 0), now), {
        Err(SlotRefusal::Closed(date(2026, 12, 31)))
    });
    // Same-day booking when the office allows it: a past slot is refused.
    let same_day = Schedule::new("mon-fri 08:30-17:15", 1, 15, 0, 7).unwrap();
    assert_eq!(
        same_day.check_slot(at(date(2026, 12, 1), 9, 0), now),
        Err(SlotRefusal::Past)
    );
    assert_eq!(
        same_day.check_slot(at(date(2026, 12, 1), 10, 15), now),
        Ok(())
    );
}

#[test]
fn schedule_values_are_checked_field_by_field() {
    let field = |r: Result<Schedule, FieldError>| r.unwrap_err().field;
    assert_eq!(
        field(Schedule::new("mon 09:00-10:00", 0, 15, 1, 30)),
        "counters"
    );
    assert_eq!(
        field(Schedule::new("mon 09:00-10:00", 51, 15, 1, 30)),
        "counters"
    );
    assert_eq!(
        field(Schedule::new("mon 09:00-10:00", 1, 4, 1, 30)),
        "slot_minutes"
    );
    assert_eq!(
        field(Schedule::new("mon 09:00-10:00", 1, 15, 1, 367)),
        "book_to_days"
    );
    assert_eq!(
        field(Schedule::new("mon 09:00-10:00", 1, 15, 8, 7)),
        "book_from_days"
    );
    assert_eq!(field(Schedule::new("mon", 1, 15, 1, 7)), "hours");
}

#[test]
fn start_times_round_trip_through_unix_seconds_in_japan_time() {
    let start = date(2026, 12, 2).and_time(time(9, 0));
    let seconds = start_seconds(start);
    // 09:00 JST is 00:00 UTC.
    assert_eq!(seconds % 86_400, 0);
    assert_eq!(start_time(seconds), Some(start));
    assert_eq!(parse_start("starts_at", "2026-12-02T09:00").unwrap(), start);
    assert_eq!(
        parse_start("starts_at", "2026-12-02T09:00:00").unwrap(),
        start
    );
    assert_eq!(
        parse_start("starts_at", "2026-12-02 09:00")
            .unwrap_err()
            .field,
        "starts_at"
    );
}

fn interval() -> impl Strategy<Value = (u32, u32)> {
    (0u32..23 * 60, 1u32..600).prop_map(|(open, length)| (open, (open + length).min(24 * 60 - 1)))
}

proptest! {
    /// Any hours the parser accepts print as a text that parses back to them.
    #[test]
    fn canonical_text_round_trips(
        days in proptest::collection::vec((0usize..7, interval()), 1..7)
    ) {
        let mut seen = std::collections::HashSet::new();
        let clauses: Vec<String> = days
            .iter()
            .filter(|(day, (open, close))| open < close && seen.insert(*day))
            .map(|(day, (open, close))| {
                format!(
                    "{} {:02}:{:02}-{:02}:{:02}",
                    DAYS[*day].0, open / 60, open % 60, close / 60, close % 60
                )
            })
            .collect();
        prop_assume!(!clauses.is_empty());
        let hours = OpeningHours::parse(&clauses.join("; ")).unwrap();
        let again = OpeningHours::parse(&hours.to_string()).unwrap();
        prop_assert_eq!(hours, again);
    }

    /// No text makes the parser panic; what it accepts has sane intervals.
    #[test]
    fn the_parser_never_panics(text in "[a-z0-9:; -]{0,40}") {
        if let Ok(hours) = OpeningHours::parse(&text) {
            for day in DAYS.iter().map(|(_, day)| *day) {
                for i in hours.on(day) {
                    prop_assert!(i.open < i.close);
                }
            }
        }
    }

    /// Every slot starts inside an interval and ends by its close.
    #[test]
    fn slots_stay_within_the_hours(
        (open, close) in interval(),
        minutes in 5u32..=240,
        day in 0u32..28,
    ) {
        prop_assume!(open < close);
        let text = format!(
            "mon-sun {:02}:{:02}-{:02}:{:02}",
            open / 60, open % 60, close / 60, close % 60
        );
        let schedule = Schedule::new(&text, 1, minutes, 0, 30).unwrap();
        let day = date(2026, 2, 1 + day);
        for start in schedule.slots_on(day) {
            let start = start.num_seconds_from_midnight() / 60;
            prop_assert!(start >= open);
            prop_assert!(start + minutes <= close);
        }
    }
}
