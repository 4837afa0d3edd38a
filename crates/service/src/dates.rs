//! Dates as Japanese documents write them: the era year of the Japanese calendar
//! (和暦, e.g. 平成2年4月1日). The eras and their start dates come from ICU4X's CLDR
//! data, not a table of our own, so a new era arrives with a dependency update.

use chrono::Datelike;
use icu_calendar::cal::Japanese;
use icu_calendar::Date;
use icu_datetime::fieldsets::YMD;
use icu_datetime::options::YearStyle;
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_locale_core::locale;

type EraFormatter = FixedCalendarDateTimeFormatter<Japanese, YMD>;

thread_local! {
    /// Built once a thread (ICU4X's data is not `Sync` without its `sync` feature);
    /// the data is compiled in, so building fails only if it lacked Japanese, which
    /// the tests rule out.
    static JAPANESE: Option<EraFormatter> = EraFormatter::try_new(
        locale!("ja").into(),
        YMD::long().with_year_style(YearStyle::WithEra),
    )
    .ok();
}

/// The date in the Japanese calendar, e.g. `平成2年4月1日` for 1990-04-01 (ICU gives
/// dates before the Meiji era Gregorian era names); `None` only if the calendar
/// data could not be loaded or the date is outside ICU's range.
fn era_date(date: chrono::NaiveDate) -> Option<String> {
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    let japanese = Date::try_new_iso(date.year(), month, day)
        .ok()?
        .to_calendar(Japanese::new());
    JAPANESE.with(|formatter| {
        formatter
            .as_ref()
            .map(|formatter| formatter.format(&japanese).to_string())
    })
}

/// The date in the Japanese calendar, or the ISO date when it cannot be had.
pub fn japanese_era(date: chrono::NaiveDate) -> String {
    era_date(date).unwrap_or_else(|| date.format("%Y-%m-%d").to_string())
}

/// Both, as the notice prints them: `平成2年4月1日 (1990-04-01)` (the ISO date alone
/// when the era date cannot be had).
pub fn japanese_era_and_iso(date: chrono::NaiveDate) -> String {
    let iso = date.format("%Y-%m-%d");
    match era_date(date) {
        Some(era) => format!("{era} ({iso})"),
        None => iso.to_string(),
    }
}

/// The calendar date in Japan (UTC+9 all year) of a time stored as microseconds
/// since the epoch: what a resident reads as "the date" of an event.
pub fn japan_date(micros: i64) -> Option<chrono::NaiveDate> {
    let japan = chrono::FixedOffset::east_opt(9 * 3600)?;
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.with_timezone(&japan).date_naive())
}

/// A date for a page in `lang`: the era date with the ISO date in Japanese, the ISO
/// date otherwise.
pub fn for_language(date: chrono::NaiveDate, lang: &str) -> String {
    match lang {
        "ja" => japanese_era_and_iso(date),
        _ => date.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;

    fn era(y: i32, m: u32, d: u32) -> String {
        japanese_era(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn eras_change_on_their_first_day() {
        assert_eq!(era(1990, 4, 1), "平成2年4月1日");
        // Showa ended on 7 January 1989, Heisei began on the 8th.
        assert_eq!(era(1989, 1, 7), "昭和64年1月7日");
        assert!(era(1989, 1, 8).starts_with("平成"), "{}", era(1989, 1, 8));
        // Reiwa began on 1 May 2019.
        assert!(
            era(2019, 4, 30).starts_with("平成31年"),
            "{}",
            era(2019, 4, 30)
        );
        // The first year of an era is 元年, as Japanese documents write it.
        assert_eq!(era(2019, 5, 1), "令和元年5月1日");
        assert_eq!(era(1989, 1, 8), "平成元年1月8日");
        assert_eq!(era(2026, 11, 26), "令和8年11月26日");
        assert_eq!(
            era(1926, 12, 25).chars().take(2).collect::<String>(),
            "昭和"
        );
        assert!(
            era(1920, 1, 1).starts_with("大正9年"),
            "{}",
            era(1920, 1, 1)
        );
    }

    #[test]
    fn dates_are_japan_dates() {
        // 2026-11-25 20:00 UTC is already the 26th in Japan.
        let micros = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(20, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert_eq!(japan_date(micros), NaiveDate::from_ymd_opt(2026, 11, 26));
    }

    #[test]
    fn the_notice_shows_both() {
        assert_eq!(
            japanese_era_and_iso(NaiveDate::from_ymd_opt(1990, 4, 1).unwrap()),
            "平成2年4月1日 (1990-04-01)"
        );
    }
}
