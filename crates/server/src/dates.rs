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

/// The date in the Japanese calendar, e.g. `平成2年4月1日` for 1990-04-01; the
/// ISO date when the calendar cannot say (a year outside ICU's range).
pub fn japanese_era(date: chrono::NaiveDate) -> String {
    let converted = i32::try_from(date.month())
        .ok()
        .zip(i32::try_from(date.day()).ok())
        .and_then(|(month, day)| {
            Date::try_new_iso(
                date.year(),
                u8::try_from(month).ok()?,
                u8::try_from(day).ok()?,
            )
            .ok()
        })
        .map(|iso| iso.to_calendar(Japanese::new()));
    converted
        .and_then(|japanese| {
            JAPANESE.with(|formatter| {
                formatter
                    .as_ref()
                    .map(|formatter| formatter.format(&japanese).to_string())
            })
        })
        .unwrap_or_else(|| date.format("%Y-%m-%d").to_string())
}

/// Both, as the notice prints them: `平成2年4月1日 (1990-04-01)`.
pub fn japanese_era_and_iso(date: chrono::NaiveDate) -> String {
    format!("{} ({})", japanese_era(date), date.format("%Y-%m-%d"))
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
        assert!(era(2019, 5, 1).starts_with("令和"), "{}", era(2019, 5, 1));
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
    fn the_notice_shows_both() {
        assert_eq!(
            japanese_era_and_iso(NaiveDate::from_ymd_opt(1990, 4, 1).unwrap()),
            "平成2年4月1日 (1990-04-01)"
        );
    }
}
