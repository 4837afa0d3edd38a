//! The resident registry's domain: what a registration says, the record it creates,
//! and the events that change it. Pure: the store persists what this decides.

use crate::id::{MunicipalityCode, ResidentCode};
use crate::person::{
    birth_date, check_eligibility, passport, Address, Citizenship, FieldError, Name, Nationality,
    PeriodOfStay, ResidenceStatus, Sex,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Why a resident record is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationReason {
    /// Birth in Japan (出生).
    Birth,
    /// Moving in from abroad (国外からの転入).
    MoveInFromAbroad,
}

impl FromStr for RegistrationReason {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "birth" => Ok(Self::Birth),
            "move-in-from-abroad" | "move-in" | "abroad" => Ok(Self::MoveInFromAbroad),
            other => Err(FieldError::new(
                "reason",
                format!("{other:?} is not birth or move-in-from-abroad"),
            )),
        }
    }
}

/// A registration form as typed or read from a CSV row: every field raw text.
/// [`RegistrationForm::parse`] turns it into a [`Registration`] or names the first
/// field at fault. Flags, CSV rows and (later) JSON bodies all come through here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// A form that registers, so that clients (and the API fuzzer's stateful phase,
// which follows the links from a registration) have one to start from.
#[cfg_attr(feature = "openapi", schema(example = json!({
    "municipality": "131016", "reason": "move-in-from-abroad",
    "family_name": "山田", "given_name": "花子", "family_kana": "ヤマダ", "given_kana": "ハナコ",
    "birth_date": "1990-04-01", "sex": "female", "address": "東京都千代田区千代田1-1"
})))]
#[serde(deny_unknown_fields)]
pub struct RegistrationForm {
    pub municipality: Option<String>,
    pub reason: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_kana: Option<String>,
    pub given_kana: Option<String>,
    pub alphabet_name: Option<String>,
    pub alias: Option<String>,
    pub name_kana: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub address: Option<String>,
    pub nationality: Option<String>,
    pub passport: Option<String>,
    pub residence_status: Option<String>,
    pub period_of_stay: Option<String>,
    pub prior_resident_code: Option<String>,
}

/// A present, non-blank field, or `None`.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(field: &'static str, value: &'a Option<String>) -> Result<&'a str, FieldError> {
    present(value).ok_or_else(|| FieldError::new(field, "is required"))
}

impl RegistrationForm {
    /// Parses and checks the whole form; `today` is the registration date.
    pub fn parse(&self, today: NaiveDate) -> Result<Registration, FieldError> {
        let municipality: MunicipalityCode = required("municipality", &self.municipality)?
            .parse()
            .map_err(|e: crate::id::IdError| FieldError::new("municipality", e.to_string()))?;
        let reason: RegistrationReason = required("reason", &self.reason)?.parse()?;
        let nationality: Nationality = present(&self.nationality).unwrap_or("JP").parse()?;
        let birth = birth_date(required("birth_date", &self.birth_date)?, today)?;
        let sex: Sex = required("sex", &self.sex)?.parse()?;
        let address = Address::parse(required("address", &self.address)?)?;
        let prior_resident_code = present(&self.prior_resident_code)
            .map(|code| {
                code.parse::<ResidentCode>()
                    .map_err(|e| FieldError::new("prior_resident_code", e.to_string()))
            })
            .transpose()?;

        let (name, citizenship) = if nationality == Nationality::JAPAN {
            for (field, value) in [
                ("alphabet_name", &self.alphabet_name),
                ("passport", &self.passport),
                ("residence_status", &self.residence_status),
                ("period_of_stay", &self.period_of_stay),
            ] {
                if present(value).is_some() {
                    return Err(FieldError::new(field, "applies only to foreign nationals"));
                }
            }
            let name = Name::japanese(
                required("family_name", &self.family_name)?,
                required("given_name", &self.given_name)?,
                required("family_kana", &self.family_kana)?,
                required("given_kana", &self.given_kana)?,
            )?;
            (name, Citizenship::Japanese)
        } else {
            if reason == RegistrationReason::Birth && present(&self.residence_status).is_none() {
                // A foreign child born in Japan is registered with the parents'
                // status pending; we still require it to decide eligibility.
            }
            for (field, value) in [
                ("family_name", &self.family_name),
                ("given_name", &self.given_name),
            ] {
                if present(value).is_some() {
                    return Err(FieldError::new(
                        field,
                        "foreign nationals are registered under alphabet_name (and optionally alias)",
                    ));
                }
            }
            let name = Name::foreign(
                required("alphabet_name", &self.alphabet_name)?,
                present(&self.alias),
                present(&self.name_kana),
            )?;
            let status: ResidenceStatus =
                required("residence_status", &self.residence_status)?.parse()?;
            let period = present(&self.period_of_stay)
                .map(PeriodOfStay::from_str)
                .transpose()?;
            let stay_until = check_eligibility(status, period, today)?;
            let citizenship = Citizenship::Foreign {
                nationality,
                passport: passport(required("passport", &self.passport)?)?,
                residence_status: status,
                period_of_stay: period,
                stay_until,
            };
            (name, citizenship)
        };
        if reason == RegistrationReason::Birth && birth < today - chrono::Days::new(366) {
            return Err(FieldError::new(
                "birth_date",
                "a birth is registered within a year of it; older residents move in from abroad",
            ));
        }
        Ok(Registration {
            municipality,
            reason,
            person: Person {
                name,
                birth_date: birth,
                sex,
                citizenship,
            },
            address,
            date: today,
            prior_resident_code,
        })
    }
}

/// Who a resident is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: Name,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub citizenship: Citizenship,
}

impl Person {
    /// The facts that identify a foreign national across departure and return:
    /// nationality, passport number and birth date.
    pub fn foreign_identity(&self) -> Option<String> {
        match &self.citizenship {
            Citizenship::Foreign {
                nationality,
                passport,
                ..
            } => Some(format!(
                "foreign|{}|{}|{}",
                nationality.as_str(),
                passport,
                self.birth_date
            )),
            Citizenship::Japanese => None,
        }
    }
}

/// A checked registration, ready to be numbered and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub municipality: MunicipalityCode,
    pub reason: RegistrationReason,
    pub person: Person,
    pub address: Address,
    pub date: NaiveDate,
    /// For a returning Japanese national: the resident record code of the earlier
    /// record (on the removed-record certificate, 除票).
    pub prior_resident_code: Option<ResidentCode>,
}

/// Where a resident record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResidentStatus {
    /// Living in a municipality.
    Active,
    /// Moved abroad (国外転出); the record is kept and the number comes back on return.
    Departed,
    /// Deceased; terminal.
    Deceased,
}

impl ResidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Departed => "departed",
            Self::Deceased => "deceased",
        }
    }
}

impl FromStr for ResidentStatus {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "active" => Ok(Self::Active),
            "departed" => Ok(Self::Departed),
            "deceased" => Ok(Self::Deceased),
            other => Err(FieldError::new(
                "status",
                format!("{other:?} is not a status"),
            )),
        }
    }
}

/// The current state of a resident record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentRecord {
    pub municipality: MunicipalityCode,
    pub person: Person,
    pub address: Address,
    pub status: ResidentStatus,
    /// The date of the last change.
    pub since: NaiveDate,
}

impl ResidentRecord {
    /// The record a registration creates.
    pub fn registered(registration: &Registration) -> Self {
        Self {
            municipality: registration.municipality,
            person: registration.person.clone(),
            address: registration.address.clone(),
            status: ResidentStatus::Active,
            since: registration.date,
        }
    }
}

/// Why a number was changed (Number Act art. 7(2): leakage with fear of fraud).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberChangeReason(String);

impl NumberChangeReason {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        crate::person::clean_text("reason", raw, 500).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A change to a resident record. Every change is an event; the record's history
/// is the registration followed by its events, never overwritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResidentEvent {
    /// Moved to another municipality (転出・転入).
    Moved {
        date: NaiveDate,
        municipality: MunicipalityCode,
        address: Address,
    },
    /// New address in the same municipality (転居).
    AddressChanged { date: NaiveDate, address: Address },
    /// Name changed (marriage, adoption, court permission, new alias).
    Renamed { date: NaiveDate, name: Name },
    /// Left Japan (国外転出).
    Departed { date: NaiveDate },
    /// Returned from abroad and registered again: the same record, the same number.
    Returned { registration: Registration },
    /// Died.
    Died { date: NaiveDate },
    /// The My Number was changed because it leaked; the old one is retired.
    NumberChanged {
        date: NaiveDate,
        reason: NumberChangeReason,
        /// Store keys of the retired and the new number (never the numbers).
        retired_key: u64,
        new_key: u64,
    },
}

/// A change the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the resident is {status}: {event} is not possible")]
    NotAllowed {
        status: &'static str,
        event: &'static str,
    },
    #[error("{0}")]
    Field(#[from] FieldError),
}

impl ResidentEvent {
    /// The event's name in listings and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Moved { .. } => "moved",
            Self::AddressChanged { .. } => "address-changed",
            Self::Renamed { .. } => "renamed",
            Self::Departed { .. } => "departed",
            Self::Returned { .. } => "returned",
            Self::Died { .. } => "died",
            Self::NumberChanged { .. } => "number-changed",
        }
    }

    /// The date the change takes effect.
    pub fn date(&self) -> NaiveDate {
        match self {
            Self::Moved { date, .. }
            | Self::AddressChanged { date, .. }
            | Self::Renamed { date, .. }
            | Self::Departed { date }
            | Self::Died { date }
            | Self::NumberChanged { date, .. } => *date,
            Self::Returned { registration } => registration.date,
        }
    }

    /// The record after this event, or why the event is refused. Pure: a refused
    /// event leaves nothing changed.
    pub fn apply(&self, record: &ResidentRecord) -> Result<ResidentRecord, TransitionError> {
        let refuse = || TransitionError::NotAllowed {
            status: record.status.as_str(),
            event: self.kind(),
        };
        if self.date() < record.since {
            return Err(FieldError::new(
                "date",
                format!("is before the record's last change ({})", record.since),
            )
            .into());
        }
        let mut next = record.clone();
        next.since = self.date();
        match (record.status, self) {
            (
                ResidentStatus::Active,
                Self::Moved {
                    municipality,
                    address,
                    ..
                },
            ) => {
                if *municipality == record.municipality {
                    return Err(FieldError::new(
                        "municipality",
                        "is the current municipality: use a change of address",
                    )
                    .into());
                }
                next.municipality = *municipality;
                next.address = address.clone();
            }
            (ResidentStatus::Active, Self::AddressChanged { address, .. }) => {
                if *address == record.address {
                    return Err(FieldError::new("address", "is the current address").into());
                }
                next.address = address.clone();
            }
            (ResidentStatus::Active, Self::Renamed { name, .. }) => {
                let same_script = matches!(
                    (&record.person.name, name),
                    (Name::Japanese { .. }, Name::Japanese { .. })
                        | (Name::Foreign { .. }, Name::Foreign { .. })
                );
                if !same_script {
                    return Err(FieldError::new(
                        "name",
                        "a change of nationality is not a change of name",
                    )
                    .into());
                }
                next.person.name = name.clone();
            }
            (ResidentStatus::Active, Self::Departed { .. }) => {
                next.status = ResidentStatus::Departed
            }
            (ResidentStatus::Active, Self::Died { .. }) => next.status = ResidentStatus::Deceased,
            (ResidentStatus::Active | ResidentStatus::Departed, Self::NumberChanged { .. }) => {}
            (ResidentStatus::Departed, Self::Returned { registration }) => {
                if registration.person.birth_date != record.person.birth_date {
                    return Err(
                        FieldError::new("birth_date", "does not match the earlier record").into(),
                    );
                }
                next.municipality = registration.municipality;
                next.address = registration.address.clone();
                next.person = registration.person.clone();
                next.status = ResidentStatus::Active;
            }
            _ => return Err(refuse()),
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests;
