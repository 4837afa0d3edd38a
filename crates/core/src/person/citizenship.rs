//! Citizenship and what decides a foreign national's registration: nationality,
//! passport, residence status and period of stay, and the eligibility rule they feed.

use super::{clean_text, FieldError};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An ISO 3166-1 alpha-2 nationality code; `JP` is Japanese nationality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nationality([u8; 2]);

impl Nationality {
    pub const JAPAN: Nationality = Nationality(*b"JP");
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Nationality {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let upper = s.trim().to_ascii_uppercase();
        match upper.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([*a, *b])),
            _ => Err(FieldError::new(
                "nationality",
                "must be a two-letter ISO 3166 country code (JP, US, VN, ...)",
            )),
        }
    }
}

try_from_string!(Nationality);

impl From<Nationality> for String {
    fn from(n: Nationality) -> String {
        n.as_str().to_string()
    }
}

/// Residence statuses (在留資格) of the Immigration Control Act, plus the special
/// permanent residents of the Special Act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResidenceStatus {
    Diplomat,
    Official,
    Professor,
    Artist,
    ReligiousActivities,
    Journalist,
    #[serde(rename = "highly-skilled-professional-1")]
    HighlySkilledProfessional1,
    #[serde(rename = "highly-skilled-professional-2")]
    HighlySkilledProfessional2,
    BusinessManager,
    LegalAccountingServices,
    MedicalServices,
    Researcher,
    Instructor,
    EngineerHumanitiesInternational,
    IntraCompanyTransferee,
    NursingCare,
    Entertainer,
    SkilledLabor,
    #[serde(rename = "specified-skilled-worker-1")]
    SpecifiedSkilledWorker1,
    #[serde(rename = "specified-skilled-worker-2")]
    SpecifiedSkilledWorker2,
    TechnicalInternTraining,
    CulturalActivities,
    TemporaryVisitor,
    Student,
    Trainee,
    Dependent,
    DesignatedActivities,
    PermanentResident,
    SpouseOfJapaneseNational,
    SpouseOfPermanentResident,
    LongTermResident,
    SpecialPermanentResident,
}

impl ResidenceStatus {
    pub(super) const ALL: [ResidenceStatus; 32] = [
        Self::Diplomat,
        Self::Official,
        Self::Professor,
        Self::Artist,
        Self::ReligiousActivities,
        Self::Journalist,
        Self::HighlySkilledProfessional1,
        Self::HighlySkilledProfessional2,
        Self::BusinessManager,
        Self::LegalAccountingServices,
        Self::MedicalServices,
        Self::Researcher,
        Self::Instructor,
        Self::EngineerHumanitiesInternational,
        Self::IntraCompanyTransferee,
        Self::NursingCare,
        Self::Entertainer,
        Self::SkilledLabor,
        Self::SpecifiedSkilledWorker1,
        Self::SpecifiedSkilledWorker2,
        Self::TechnicalInternTraining,
        Self::CulturalActivities,
        Self::TemporaryVisitor,
        Self::Student,
        Self::Trainee,
        Self::Dependent,
        Self::DesignatedActivities,
        Self::PermanentResident,
        Self::SpouseOfJapaneseNational,
        Self::SpouseOfPermanentResident,
        Self::LongTermResident,
        Self::SpecialPermanentResident,
    ];

    /// The kebab-case name used in flags, CSV and JSON.
    pub fn name(self) -> String {
        serde_json::to_string(&self)
            .map(|s| s.trim_matches('"').to_string())
            .unwrap_or_default()
    }

    /// Statuses without a period of stay.
    pub fn is_indefinite(self) -> bool {
        // Highly Skilled Professional (ii) has an unlimited period of stay.
        matches!(
            self,
            Self::PermanentResident
                | Self::SpecialPermanentResident
                | Self::HighlySkilledProfessional2
        )
    }
}

impl FromStr for ResidenceStatus {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL
            .iter()
            .copied()
            .find(|status| status.name() == wanted)
            .ok_or_else(|| {
                FieldError::new(
                    "residence_status",
                    "is not a residence status (e.g. student, engineer-humanities-international, permanent-resident)",
                )
            })
    }
}

/// A period of stay as granted: years, months and days (`5y`, `1y6m`, `90d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodOfStay {
    pub years: u16,
    pub months: u16,
    pub days: u16,
}

impl PeriodOfStay {
    /// The last day of the stay for a stay starting on `start`.
    pub fn ends(&self, start: NaiveDate) -> Option<NaiveDate> {
        start
            .checked_add_months(Months::new(
                u32::from(self.years) * 12 + u32::from(self.months),
            ))?
            .checked_add_days(chrono::Days::new(u64::from(self.days)))
    }
}

impl FromStr for PeriodOfStay {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                "period_of_stay",
                "must be a period such as 5y, 1y6m, 3m or 90d",
            )
        };
        let mut period = PeriodOfStay {
            years: 0,
            months: 0,
            days: 0,
        };
        let mut number = String::new();
        let mut any = false;
        for ch in s.trim().chars() {
            if ch.is_ascii_digit() {
                number.push(ch);
                continue;
            }
            let value: u16 = number.parse().map_err(|_| bad())?;
            number.clear();
            match ch {
                'y' | 'Y' => period.years = value,
                'm' | 'M' => period.months = value,
                'd' | 'D' => period.days = value,
                _ => return Err(bad()),
            }
            any = true;
        }
        if !number.is_empty() || !any || period.years > 10 {
            return Err(bad());
        }
        Ok(period)
    }
}

impl fmt::Display for PeriodOfStay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (value, unit) in [(self.years, 'y'), (self.months, 'm'), (self.days, 'd')] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        Ok(())
    }
}

/// Citizenship and, for foreign nationals, the facts that decide registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Citizenship {
    Japanese,
    Foreign {
        nationality: Nationality,
        passport: String,
        residence_status: ResidenceStatus,
        period_of_stay: Option<PeriodOfStay>,
        /// The last day of the authorised stay, if it has one.
        stay_until: Option<NaiveDate>,
    },
}

/// Checks a foreign national's eligibility for a resident record and a number:
/// a stay of more than 3 months, not as a temporary visitor, diplomat or official.
pub fn check_eligibility(
    status: ResidenceStatus,
    period: Option<PeriodOfStay>,
    start: NaiveDate,
) -> Result<Option<NaiveDate>, FieldError> {
    match status {
        ResidenceStatus::TemporaryVisitor => {
            return Err(FieldError::new(
                "residence_status",
                "temporary visitors (short-term stay) are not registered as residents and get no My Number",
            ))
        }
        ResidenceStatus::Diplomat | ResidenceStatus::Official => {
            return Err(FieldError::new(
                "residence_status",
                "members of diplomatic or official missions are not registered as residents and get no My Number",
            ))
        }
        _ => {}
    }
    if status.is_indefinite() {
        return Ok(None);
    }
    let Some(period) = period else {
        return Err(FieldError::new(
            "period_of_stay",
            format!("is required for the residence status {}", status.name()),
        ));
    };
    let ends = period
        .ends(start)
        .ok_or_else(|| FieldError::new("period_of_stay", "is out of range"))?;
    let three_months = start
        .checked_add_months(Months::new(3))
        .ok_or_else(|| FieldError::new("period_of_stay", "is out of range"))?;
    if ends <= three_months {
        return Err(FieldError::new(
            "period_of_stay",
            format!(
                "a stay of {period} is not more than 3 months: no resident record and no My Number"
            ),
        ));
    }
    Ok(Some(ends))
}

/// A passport number: letters and digits, as printed.
pub fn passport(raw: &str) -> Result<String, FieldError> {
    let text = clean_text("passport", raw, 20)?.to_ascii_uppercase();
    if let Some(ch) = text.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(
            "passport",
            format!("{ch:?} is not allowed: a passport number has letters and digits only"),
        ));
    }
    Ok(text)
}
