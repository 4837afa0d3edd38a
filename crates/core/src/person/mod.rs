//! A person's registered facts: name, birth date, sex, citizenship, residence status.
//! Every value here is built by parsing; an error names the field and the reason.
//!
//! This file holds what every field shares (the error and the text and date parsers);
//! each kind of fact lives in its own submodule, re-exported here.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

mod address;
mod birth;
mod citizenship;
mod name;

pub use address::Address;
pub use birth::{birth_date, Sex};
pub use citizenship::{
    check_eligibility, passport, Citizenship, Nationality, PeriodOfStay, ResidenceStatus,
};
pub use name::{search_form, Name, NameChange};

/// A field that failed to parse or a rule that refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's name as it appears in forms, flags and CSV headers.
    pub field: &'static str,
    /// What is wrong, in words a person can act on.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Normalises text typed by people (NFKC: half-width katakana and full-width Latin
/// letters become their usual forms) and checks it is present, bounded and free of
/// control characters.
pub fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let text: String = raw.nfkc().collect::<String>().trim().to_string();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if let Some(ch) = text.chars().find(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            format!("contains the control character U+{:04X}", u32::from(ch)),
        ));
    }
    let count = text.chars().count();
    if count > max {
        return Err(FieldError::new(
            field,
            format!("is {count} characters long; at most {max} are allowed"),
        ));
    }
    Ok(text)
}

/// Parses an ISO date (`YYYY-MM-DD`) for `field`.
pub fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    let text: String = raw.nfkc().collect::<String>();
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "is not a real date of the form YYYY-MM-DD"))
}

#[cfg(test)]
mod tests;
