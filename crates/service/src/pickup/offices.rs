//! The offices where cards are collected: each municipality's record (name,
//! address, phone, opening hours, counters, slot length, booking window), shown to
//! the public and changed by the municipality's supervisor (audited).

use crate::{Result, Service, ServiceError};
use maina_core::officer::{Actor, Role};
use maina_core::person::clean_text;
use maina_core::pickup::schedule::Schedule;
use maina_core::MunicipalityCode;
use maina_proto::{OfficeRequest, OfficeResponse};
use maina_store::pickup::{OfficeRecord, OfficeUpdate};

/// A municipality code as typed, for `field`.
pub(crate) fn municipality_code(field: &str, text: &str) -> Result<MunicipalityCode> {
    text.trim()
        .parse()
        .map_err(|e: maina_core::IdError| ServiceError::invalid(field, format!("{field}: {e}")))
}

/// The stored office's schedule; a stored value the rules refuse is corrupt.
pub(crate) fn schedule(office: &OfficeRecord) -> Result<Schedule> {
    let number = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    Schedule::new(
        &office.hours,
        number(office.counters),
        number(office.slot_minutes),
        number(office.book_from_days),
        number(office.book_to_days),
    )
    .map_err(|error| ServiceError::internal(&format!("office {}: {error}", office.id)))
}

/// The office as the API and the pages show it.
pub fn office_response(office: &OfficeRecord) -> OfficeResponse {
    let number = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    let updated_at = chrono::DateTime::from_timestamp_micros(office.updated_at)
        .filter(|_| office.updated_at > 0)
        .map(|time| {
            time.with_timezone(&maina_core::pickup::schedule::japan())
                .to_rfc3339()
        })
        .unwrap_or_default();
    OfficeResponse {
        municipality: office.municipality.clone(),
        name_ja: office.name_ja.clone(),
        name_en: office.name_en.clone(),
        address_ja: office.address_ja.clone(),
        address_en: office.address_en.clone(),
        phone: office.phone.clone(),
        hours: office.hours.clone(),
        counters: number(office.counters),
        slot_minutes: number(office.slot_minutes),
        book_from_days: number(office.book_from_days),
        book_to_days: number(office.book_to_days),
        updated_at,
        updated_by: office.updated_by.clone(),
    }
}

/// Optional text: empty is allowed, otherwise checked as `clean_text`.
fn optional_text(field: &'static str, text: &str, max: usize) -> Result<String> {
    if text.trim().is_empty() {
        Ok(String::new())
    } else {
        Ok(clean_text(field, text, max)?)
    }
}

/// A phone number as offices print it: digits, hyphens, parentheses, `+` and
/// spaces, 20 characters at most.
fn phone(text: &str) -> Result<String> {
    let text = optional_text("phone", text, 20)?;
    if text
        .chars()
        .all(|c| c.is_ascii_digit() || "-+() ".contains(c))
    {
        Ok(text)
    } else {
        Err(ServiceError::invalid(
            "phone",
            "phone: digits, hyphens, parentheses and + only",
        ))
    }
}

/// A supervisor's change, every field checked (errors name the field); the hours
/// are stored in their canonical text.
fn office_update(request: &OfficeRequest) -> Result<OfficeUpdate> {
    let schedule = Schedule::new(
        &request.hours,
        request.counters,
        request.slot_minutes,
        request.book_from_days,
        request.book_to_days,
    )?;
    Ok(OfficeUpdate {
        name_ja: clean_text("name_ja", &request.name_ja, 100)?,
        name_en: clean_text("name_en", &request.name_en, 100)?,
        address_ja: optional_text("address_ja", &request.address_ja, 200)?,
        address_en: optional_text("address_en", &request.address_en, 200)?,
        phone: phone(&request.phone)?,
        hours: schedule.hours.to_string(),
        counters: schedule.counters,
        slot_minutes: schedule.slot_minutes,
        book_from_days: schedule.book_from_days,
        book_to_days: schedule.book_to_days,
    })
}

impl Service {
    /// A municipality's office (public facts; the defaults until a supervisor
    /// sets it). A read: it writes nothing.
    pub async fn office_of(&self, municipality: &str) -> Result<OfficeResponse> {
        let code = municipality_code("municipality", municipality)?;
        Ok(office_response(&self.store.office_view(&code).await?))
    }

    /// The office as one line for a resident's page or e-mail, in `lang` (name,
    /// address, phone): what the status e-mails and pages can name instead of
    /// "your city office".
    pub async fn office_contact(&self, municipality: &str, lang: &str) -> Result<String> {
        let code = municipality_code("municipality", municipality)?;
        let office = self.store.office_view(&code).await?;
        let (name, address) = if crate::i18n::language(lang) == "ja" {
            (office.name_ja, office.address_ja)
        } else {
            (office.name_en, office.address_en)
        };
        Ok([name, address, office.phone]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", "))
    }

    /// Changes a municipality's office: its supervisor (or the administrator)
    /// only; a refusal is audited. The change is audited in its transaction.
    pub async fn update_office(
        &self,
        actor: &Actor,
        municipality: &str,
        request: &OfficeRequest,
    ) -> Result<OfficeResponse> {
        let code = municipality_code("municipality", municipality)?;
        let allowed = match actor.role {
            Role::Administrator => true,
            Role::Supervisor => actor.municipality.as_ref() == Some(&code),
            _ => false,
        };
        if !allowed {
            let action = format!("denied office.update:{} (forbidden)", code.as_digits());
            self.store.audit(actor, &action, None).await?;
            return Err(ServiceError::forbidden());
        }
        let update = office_update(request)?;
        let office = self.store.put_office(&code, &update, actor).await?;
        Ok(office_response(&office))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> OfficeRequest {
        OfficeRequest {
            name_ja: "千代田区役所".into(),
            name_en: "Chiyoda City Office".into(),
            address_ja: String::new(),
            address_en: String::new(),
            phone: "03-3264-2111".into(),
            hours: "MON-FRI 08:30-17:15".into(),
            counters: 2,
            slot_minutes: 15,
            book_from_days: 1,
            book_to_days: 30,
        }
    }

    #[test]
    fn an_office_change_is_checked_field_by_field() {
        let update = office_update(&request()).unwrap();
        assert_eq!(update.hours, "mon-fri 08:30-17:15");
        let refused = |change: fn(&mut OfficeRequest)| {
            let mut request = request();
            change(&mut request);
            office_update(&request).unwrap_err().field.unwrap()
        };
        assert_eq!(refused(|r| r.name_ja = " ".into()), "name_ja");
        assert_eq!(refused(|r| r.phone = "call us".into()), "phone");
        assert_eq!(refused(|r| r.hours = "weekdays".into()), "hours");
        assert_eq!(refused(|r| r.counters = 0), "counters");
        assert_eq!(refused(|r| r.slot_minutes = 1000), "slot_minutes");
        assert_eq!(refused(|r| r.book_from_days = 40), "book_from_days");
    }
}
