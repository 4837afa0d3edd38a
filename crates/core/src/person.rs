//! A person's registered facts: name, birth date, sex, citizenship, residence status.
//! Every value here is built by parsing; an error names the field and the reason.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

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

/// Longest name part we accept (the resident registry's fields are bounded).
const MAX_NAME_CHARS: usize = 100;
/// Longest address we accept.
const MAX_ADDRESS_CHARS: usize = 200;

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

fn is_kana(ch: char) -> bool {
    matches!(ch, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | '゛' | '゜' | 'ヽ' | 'ヾ' | 'ゝ' | 'ゞ' | ' ' | '\u{3000}')
}

fn kana(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let text = clean_text(field, raw, MAX_NAME_CHARS)?;
    if let Some((i, ch)) = text.chars().enumerate().find(|(_, c)| !is_kana(*c)) {
        return Err(FieldError::new(
            field,
            format!(
                "must be written in kana; {ch:?} at position {} is not kana",
                i + 1
            ),
        ));
    }
    Ok(text)
}

fn alphabet(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let text = clean_text(field, raw, MAX_NAME_CHARS)?.to_uppercase();
    if let Some((i, ch)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_uppercase() || matches!(c, ' ' | '-' | '\'' | ',' | '.')))
    {
        return Err(FieldError::new(
            field,
            format!(
                "must be written in the Latin alphabet as on the passport; {ch:?} at position {} is not",
                i + 1
            ),
        ));
    }
    Ok(text)
}

/// A registered name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Name {
    /// A Japanese national's name: kanji (or kana) and its reading in kana.
    Japanese {
        family: String,
        given: String,
        family_kana: String,
        given_kana: String,
    },
    /// A foreign national's name as on the passport, with an optional registered
    /// alias (通称) and reading.
    Foreign {
        alphabet: String,
        alias: Option<String>,
        kana: Option<String>,
    },
}

impl Name {
    /// A Japanese name from its four parts.
    pub fn japanese(
        family: &str,
        given: &str,
        family_kana: &str,
        given_kana: &str,
    ) -> Result<Self, FieldError> {
        Ok(Self::Japanese {
            family: clean_text("family_name", family, MAX_NAME_CHARS)?,
            given: clean_text("given_name", given, MAX_NAME_CHARS)?,
            family_kana: kana("family_kana", family_kana)?,
            given_kana: kana("given_kana", given_kana)?,
        })
    }

    /// A foreign national's name.
    pub fn foreign(
        alphabet_name: &str,
        alias: Option<&str>,
        name_kana: Option<&str>,
    ) -> Result<Self, FieldError> {
        Ok(Self::Foreign {
            alphabet: alphabet("alphabet_name", alphabet_name)?,
            alias: alias
                .map(|a| clean_text("alias", a, MAX_NAME_CHARS))
                .transpose()?,
            kana: name_kana.map(|k| kana("name_kana", k)).transpose()?,
        })
    }

    /// Every written form of the name, normalised for search (see [`search_form`]).
    pub fn search_forms(&self) -> Vec<String> {
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => vec![
                search_form(&format!("{family}{given}")),
                search_form(&format!("{family_kana}{given_kana}")),
            ],
            Name::Foreign {
                alphabet,
                alias,
                kana,
            } => [Some(alphabet), alias.as_ref(), kana.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| search_form(s))
                .collect(),
        }
    }

    /// A key that identifies the name for matching (whitespace-insensitive).
    pub fn matching_key(&self) -> String {
        let joined = match self {
            Name::Japanese { family, given, .. } => format!("{family}{given}"),
            Name::Foreign { alphabet, .. } => alphabet.clone(),
        };
        joined.chars().filter(|c| !c.is_whitespace()).collect()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => write!(f, "{family} {given} ({family_kana} {given_kana})"),
            Name::Foreign {
                alphabet, alias, ..
            } => match alias {
                Some(alias) => write!(f, "{alphabet} (alias {alias})"),
                None => f.write_str(alphabet),
            },
        }
    }
}

/// Text as compared in searches: NFKC, upper case, no spaces, hiragana as katakana.
pub fn search_form(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            // Hiragana and katakana differ by 0x60 in this range.
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// A change of name: the parts given replace the current ones, the others stay.
/// An empty alias removes the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameChange {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_kana: Option<String>,
    pub given_kana: Option<String>,
    pub alphabet_name: Option<String>,
    pub alias: Option<String>,
    pub name_kana: Option<String>,
}

impl NameChange {
    /// The parts only a Japanese national's name has, by field.
    fn japanese_parts(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("family_name", &self.family_name),
            ("given_name", &self.given_name),
            ("family_kana", &self.family_kana),
            ("given_kana", &self.given_kana),
        ]
    }

    /// The parts only a foreign national's name has, by field.
    fn foreign_parts(&self) -> [(&'static str, &Option<String>); 3] {
        [
            ("alphabet_name", &self.alphabet_name),
            ("alias", &self.alias),
            ("name_kana", &self.name_kana),
        ]
    }
}

/// Refuses the first of `parts` that is given, for `reason`.
fn refuse_given(parts: &[(&'static str, &Option<String>)], reason: &str) -> Result<(), FieldError> {
    match parts.iter().find(|(_, value)| value.is_some()) {
        Some((field, _)) => Err(FieldError::new(field, reason)),
        None => Ok(()),
    }
}

impl Name {
    /// The name after `change`: one rule for the command line, the API and the
    /// console. Parts of the other script are refused, naming the field.
    pub fn changed(&self, change: &NameChange) -> Result<Name, FieldError> {
        let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_string());
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => {
                refuse_given(&change.foreign_parts(), "applies only to foreign nationals")?;
                Name::japanese(
                    &pick(&change.family_name, family),
                    &pick(&change.given_name, given),
                    &pick(&change.family_kana, family_kana),
                    &pick(&change.given_kana, given_kana),
                )
            }
            Name::Foreign {
                alphabet,
                alias,
                kana,
            } => {
                refuse_given(
                    &change.japanese_parts(),
                    "applies only to Japanese nationals",
                )?;
                let alias = match &change.alias {
                    Some(new) if new.trim().is_empty() => None,
                    Some(new) => Some(new.clone()),
                    None => alias.clone(),
                };
                let kana = change.name_kana.clone().or_else(|| kana.clone());
                Name::foreign(
                    &pick(&change.alphabet_name, alphabet),
                    alias.as_deref(),
                    kana.as_deref(),
                )
            }
        }
    }
}

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

/// Parses an ISO date (`YYYY-MM-DD`) for `field`.
pub fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    let text: String = raw.nfkc().collect::<String>();
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "is not a real date of the form YYYY-MM-DD"))
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
    const ALL: [ResidenceStatus; 32] = [
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

/// A registered address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        clean_text("address", raw, MAX_ADDRESS_CHARS).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn eligibility_rules() {
        let start = day("2026-04-01");
        let p = |s: &str| Some(s.parse::<PeriodOfStay>().unwrap());
        assert!(check_eligibility(ResidenceStatus::Student, p("1y"), start).is_ok());
        assert!(check_eligibility(ResidenceStatus::Student, p("3m1d"), start).is_ok());
        let err = check_eligibility(ResidenceStatus::Student, p("3m"), start).unwrap_err();
        assert_eq!(err.field, "period_of_stay");
        assert!(err.reason.contains("not more than 3 months"));
        assert!(check_eligibility(ResidenceStatus::DesignatedActivities, p("90d"), start).is_err());
        let err = check_eligibility(ResidenceStatus::TemporaryVisitor, p("1y"), start).unwrap_err();
        assert!(err.reason.contains("temporary visitors"));
        assert!(check_eligibility(ResidenceStatus::Diplomat, p("3y"), start).is_err());
        assert!(check_eligibility(ResidenceStatus::Official, p("3y"), start).is_err());
        assert_eq!(
            check_eligibility(ResidenceStatus::PermanentResident, None, start),
            Ok(None)
        );
        assert_eq!(
            check_eligibility(ResidenceStatus::Student, None, start)
                .unwrap_err()
                .field,
            "period_of_stay"
        );
    }

    #[test]
    fn residence_status_names_round_trip() {
        for status in ResidenceStatus::ALL {
            assert_eq!(status.name().parse::<ResidenceStatus>(), Ok(status));
        }
        assert_eq!(
            "engineer_humanities_international".parse::<ResidenceStatus>(),
            Ok(ResidenceStatus::EngineerHumanitiesInternational)
        );
        assert!("tourist".parse::<ResidenceStatus>().is_err());
    }

    #[test]
    fn names_are_checked_and_normalised() {
        let name = Name::japanese("山田", "太郎", "ﾔﾏﾀﾞ", "タロウ").unwrap();
        assert_eq!(name.to_string(), "山田 太郎 (ヤマダ タロウ)");
        assert_eq!(
            Name::japanese("山田", "太郎", "yamada", "タロウ")
                .unwrap_err()
                .field,
            "family_kana"
        );
        assert_eq!(
            Name::japanese("", "太郎", "ヤマダ", "タロウ")
                .unwrap_err()
                .field,
            "family_name"
        );
        let foreign = Name::foreign("Smith John", Some("佐藤 ジョン"), None).unwrap();
        assert_eq!(foreign.to_string(), "SMITH JOHN (alias 佐藤 ジョン)");
        assert!(Name::foreign("Sm1th", None, None).is_err());
    }

    #[test]
    fn periods_parse() {
        assert_eq!("1y6m".parse::<PeriodOfStay>().unwrap().to_string(), "1y6m");
        for bad in ["", "y", "5", "5w", "1y-2m", "99y"] {
            assert!(bad.parse::<PeriodOfStay>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sex_and_nationality() {
        assert_eq!("F".parse::<Sex>(), Ok(Sex::Female));
        assert_eq!(Sex::NotApplicable.iso5218(), 9);
        assert!("x".parse::<Sex>().is_err());
        assert_eq!("vn".parse::<Nationality>().unwrap().as_str(), "VN");
        assert!("VNM".parse::<Nationality>().is_err());
    }

    #[test]
    fn highly_skilled_professional_2_has_no_period_of_stay() {
        let start = day("2026-04-01");
        assert_eq!(
            check_eligibility(ResidenceStatus::HighlySkilledProfessional2, None, start),
            Ok(None)
        );
        assert_eq!(
            "highly-skilled-professional-2".parse::<ResidenceStatus>(),
            Ok(ResidenceStatus::HighlySkilledProfessional2)
        );
    }
}
