//! The facts of birth: sex (with its ISO/IEC 5218 code) and the birth date.

use super::{parse_date, FieldError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Sex as recorded, with its ISO/IEC 5218 code (the chip uses 1, 2 and 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    NotApplicable,
}

impl Sex {
    pub fn iso5218(self) -> u8 {
        match self {
            Sex::Male => 1,
            Sex::Female => 2,
            Sex::NotApplicable => 9,
        }
    }
}

impl FromStr for Sex {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "male" | "m" | "1" | "男" => Ok(Sex::Male),
            "female" | "f" | "2" | "女" => Ok(Sex::Female),
            "not_applicable" | "not-applicable" | "9" => Ok(Sex::NotApplicable),
            // Personal values are never echoed in errors: they end up in logs and
            // import reports.
            _ => Err(FieldError::new(
                "sex",
                "must be one of male, female, not-applicable (or 1, 2, 9)",
            )),
        }
    }
}

/// A birth date: a real date, not in the future, not absurdly old.
pub fn birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let date = parse_date("birth_date", raw)?;
    if date > today {
        return Err(FieldError::new("birth_date", "is in the future"));
    }
    if date < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(FieldError::new("birth_date", "is before 1880"));
    }
    Ok(date)
}
