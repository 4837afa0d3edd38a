//! Offices where cards are collected: one per municipality, created with the
//! default schedule on first use, changed by a supervisor (audited). Nothing here is
//! personal data.

use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::{Result, Store, StoreError};
use maina_core::officer::Actor;
use maina_core::pickup::schedule::Schedule;
use maina_core::MunicipalityCode;

/// The counter that numbers offices.
const OFFICE_COUNTER: &str = "office";

const OFFICE_COLUMNS: &str = "id, municipality, name_ja, name_en, address_ja, address_en, phone, hours, counters, slot_minutes, book_from_days, book_to_days, updated_at, updated_by";

/// An office as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeRecord {
    pub id: u64,
    pub municipality: String,
    pub name_ja: String,
    pub name_en: String,
    pub address_ja: String,
    pub address_en: String,
    pub phone: String,
    /// The hours text (`maina_core::pickup::schedule::OpeningHours`).
    pub hours: String,
    pub counters: u64,
    pub slot_minutes: u64,
    pub book_from_days: u64,
    pub book_to_days: u64,
    /// Microseconds since the epoch.
    pub updated_at: i64,
    pub updated_by: String,
}

/// What a supervisor sets (already checked by the use case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeUpdate {
    pub name_ja: String,
    pub name_en: String,
    pub address_ja: String,
    pub address_en: String,
    pub phone: String,
    pub hours: String,
    pub counters: u32,
    pub slot_minutes: u32,
    pub book_from_days: u32,
    pub book_to_days: u32,
}

/// The office a municipality gets when it has none: its names, the default
/// schedule, no address or phone yet.
fn default_office(id: u64, code: &str, name_ja: &str, name_en: &str, now: i64) -> OfficeRecord {
    let defaults = Schedule::default_schedule();
    OfficeRecord {
        id,
        municipality: code.to_owned(),
        name_ja: format!("{name_ja} 本庁舎 市民課"),
        name_en: format!("{name_en} Office, Residents' Section"),
        address_ja: String::new(),
        address_en: String::new(),
        phone: String::new(),
        hours: defaults.hours.to_string(),
        counters: u64::from(defaults.counters),
        slot_minutes: u64::from(defaults.slot_minutes),
        book_from_days: u64::from(defaults.book_from_days),
        book_to_days: u64::from(defaults.book_to_days),
        updated_at: now,
        updated_by: "default".into(),
    }
}

fn office_record(row: &Row) -> Result<OfficeRecord> {
    decode_row!(row => OfficeRecord {
        id: key, municipality: text, name_ja: text, name_en: text, address_ja: text,
        address_en: text, phone: text, hours: text, counters: key, slot_minutes: key,
        book_from_days: key, book_to_days: key, updated_at: int, updated_by: text,
    })
}

impl Store {
    /// The office of a municipality, created with the default schedule (and the
    /// municipality's names) if it has none yet. An unknown municipality is not
    /// found.
    pub async fn office_of(&self, municipality: &MunicipalityCode) -> Result<OfficeRecord> {
        let select = format!("SELECT {OFFICE_COLUMNS} FROM offices WHERE municipality = $1");
        let code = municipality.as_digits();
        if let Some(row) = self.read_optional(&select, &[code.as_str().into()]).await? {
            return office_record(&row);
        }
        let mut tx = self.pool.begin().await?;
        Self::create_default_office(&mut tx, &code).await?;
        let row = tx.fetch_one(&select, &[code.as_str().into()]).await?;
        tx.commit().await?;
        office_record(&row)
    }

    /// The office of a municipality as [`Store::office_of`] gives it, without
    /// writing: a municipality without an office row gets the default record
    /// (id 0) it would be created with. For public reads, which never write.
    pub async fn office_view(&self, municipality: &MunicipalityCode) -> Result<OfficeRecord> {
        let code = municipality.as_digits();
        let select = format!("SELECT {OFFICE_COLUMNS} FROM offices WHERE municipality = $1");
        if let Some(row) = self.read_optional(&select, &[code.as_str().into()]).await? {
            return office_record(&row);
        }
        let names = self
            .read_found(
                "municipality",
                "SELECT name_ja, name_en FROM municipalities WHERE code = $1",
                &[code.as_str().into()],
            )
            .await?;
        Ok(default_office(
            0,
            &code,
            &names.text(0)?,
            &names.text(1)?,
            0,
        ))
    }

    /// An office by its id.
    pub async fn office(&self, id: u64) -> Result<OfficeRecord> {
        let row = self
            .read_found(
                "office",
                &format!("SELECT {OFFICE_COLUMNS} FROM offices WHERE id = $1"),
                &[to_i64(id)?.into()],
            )
            .await?;
        office_record(&row)
    }

    /// Creates the default office of a municipality unless it has one.
    async fn create_default_office(tx: &mut Tx<'_>, code: &str) -> Result<()> {
        let exists = tx
            .exists(
                "SELECT id FROM offices WHERE municipality = $1",
                &[code.into()],
            )
            .await?;
        if exists {
            return Ok(());
        }
        let names = tx
            .fetch_optional(
                "SELECT name_ja, name_en FROM municipalities WHERE code = $1",
                &[code.into()],
            )
            .await?
            .ok_or(StoreError::NotFound("municipality"))?;
        Self::create_counter(tx, OFFICE_COUNTER, 1).await?;
        Self::create_counter(tx, super::appointments::APPOINTMENT_COUNTER, 1).await?;
        let id = Self::take_key(tx, OFFICE_COUNTER).await?;
        let office = default_office(id, code, &names.text(0)?, &names.text(1)?, now_micros());
        tx.execute(
            "INSERT INTO offices (id, municipality, name_ja, name_en, address_ja, address_en, phone, hours, counters, slot_minutes, book_from_days, book_to_days, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (municipality) DO NOTHING",
            &[
                to_i64(office.id)?.into(),
                office.municipality.as_str().into(),
                office.name_ja.as_str().into(),
                office.name_en.as_str().into(),
                office.address_ja.as_str().into(),
                office.address_en.as_str().into(),
                office.phone.as_str().into(),
                office.hours.as_str().into(),
                to_i64(office.counters)?.into(),
                to_i64(office.slot_minutes)?.into(),
                to_i64(office.book_from_days)?.into(),
                to_i64(office.book_to_days)?.into(),
                office.updated_at.into(),
                office.updated_by.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Sets a municipality's office (creating it if needed), with the audit event,
    /// in one transaction. Slots still ahead take the new number of counters as
    /// their capacity, never below the seats already booked.
    pub async fn put_office(
        &self,
        municipality: &MunicipalityCode,
        update: &OfficeUpdate,
        actor: &Actor,
    ) -> Result<OfficeRecord> {
        let code = municipality.as_digits();
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        Self::create_default_office(&mut tx, &code).await?;
        let row = tx
            .fetch_one(
                "UPDATE offices SET name_ja = $1, name_en = $2, address_ja = $3, address_en = $4, phone = $5, hours = $6, counters = $7, slot_minutes = $8, book_from_days = $9, book_to_days = $10, updated_at = $11, updated_by = $12 \
                 WHERE municipality = $13 RETURNING id",
                &[
                    update.name_ja.as_str().into(),
                    update.name_en.as_str().into(),
                    update.address_ja.as_str().into(),
                    update.address_en.as_str().into(),
                    update.phone.as_str().into(),
                    update.hours.as_str().into(),
                    i64::from(update.counters).into(),
                    i64::from(update.slot_minutes).into(),
                    i64::from(update.book_from_days).into(),
                    i64::from(update.book_to_days).into(),
                    now.into(),
                    actor.officer.as_str().into(),
                    code.as_str().into(),
                ],
            )
            .await?;
        let id = row.int(0)?;
        tx.execute(
            "UPDATE slots SET capacity = CASE WHEN booked > $1 THEN booked ELSE $1 END WHERE office_id = $2 AND starts_at > $3",
            &[i64::from(update.counters).into(), id.into(), (now / 1_000_000).into()],
        )
        .await?;
        self.audit_in(&mut tx, actor, &format!("office.update:{code}"), None)
            .await?;
        tx.commit().await?;
        self.office_of(municipality).await
    }
}
