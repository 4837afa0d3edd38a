//! Reads: a resident by key, resident record code or My Number, what the registry
//! knows of a number, a record's history. The sealed registration, current record
//! and events are opened here.

use super::{
    current_place, event_place, registration_place, resident_row, HistoryEntry, NumberStatus,
    ResidentRow, ResidentView,
};
use crate::backend::{to_i64, to_u64, Query};
use crate::{Result, Store, StoreError};
use maina_core::authority::NumberKey;
use maina_core::resident::{Registration, ResidentEvent, ResidentRecord};
use maina_core::{MyNumber, NumberAuthority, ResidentCode};

impl Store {
    pub(super) fn current_record(&self, row: &ResidentRow) -> Result<ResidentRecord> {
        match &row.current {
            Some(sealed) => self.open_record(&current_place(row.key, row.version), sealed),
            None => {
                let registration: Registration =
                    self.open_record(&registration_place(row.key), &row.registration)?;
                Ok(ResidentRecord::registered(&registration))
            }
        }
    }

    pub(super) fn view(&self, row: ResidentRow) -> Result<ResidentView> {
        // The registration is opened once; a record never changed since is derived
        // from it rather than opened a second time.
        let registration: Registration =
            self.open_record(&registration_place(row.key), &row.registration)?;
        let record = match &row.current {
            Some(sealed) => self.open_record(&current_place(row.key, row.version), sealed)?,
            None => ResidentRecord::registered(&registration),
        };
        Ok(ResidentView {
            resident_key: row.key,
            resident_code: self.authority.resident_code(row.key)?,
            my_number: self.authority.my_number(row.number_key)?,
            status: row.status,
            version: row.version,
            record,
            registration,
            registered_at: row.registered_at,
            registered_by: row.registered_by,
            updated_at: row.updated_at,
        })
    }

    /// The resident with this row key.
    pub async fn resident(&self, key: u64) -> Result<ResidentView> {
        let mut reader = self.reader().await;
        let row = resident_row(&mut reader, key).await?;
        drop(reader);
        self.view(row)
    }

    /// The resident with this resident record code.
    pub async fn resident_by_code(&self, code: &ResidentCode) -> Result<ResidentView> {
        let key = self.authority.resident_key(code)?;
        self.resident(key).await
    }

    /// What the registry knows of `number`; never reveals whose it is to the caller
    /// beyond the row key (the caller decides what to show and audits it).
    pub async fn lookup_number(&self, number: &MyNumber) -> Result<NumberStatus> {
        let number_key = self.authority.number_key(number)?;
        let mut reader = self.reader().await;
        let row = reader
            .fetch_optional(
                "SELECT resident_id, retired_at, replaced_by FROM numbers WHERE number_key = $1",
                &[to_i64(number_key)?.into()],
            )
            .await?;
        if let Some(row) = row {
            let resident_key = row.key(0)?;
            return Ok(match (row.opt_int(1)?, row.opt_int(2)?) {
                (Some(retired_at), Some(replaced_by)) => NumberStatus::Retired {
                    resident_key,
                    retired_at,
                    replaced_by: self.authority.my_number(to_u64(replaced_by)?)?,
                },
                _ => NumberStatus::Active { resident_key },
            });
        }
        match NumberAuthority::classify(number_key) {
            NumberKey::Original { resident_key } => {
                let found = reader
                    .fetch_optional(
                        "SELECT number_key FROM residents WHERE id = $1",
                        &[to_i64(resident_key)?.into()],
                    )
                    .await?;
                match found {
                    Some(row) if row.key(0)? == number_key => {
                        Ok(NumberStatus::Active { resident_key })
                    }
                    _ => Ok(NumberStatus::NotIssued),
                }
            }
            NumberKey::Replacement { .. } => Ok(NumberStatus::NotIssued),
        }
    }

    /// The resident holding `number` now (a retired number finds nobody).
    pub async fn resident_by_number(&self, number: &MyNumber) -> Result<ResidentView> {
        match self.lookup_number(number).await? {
            NumberStatus::Active { resident_key } => self.resident(resident_key).await,
            _ => Err(StoreError::NotFound("resident with this My Number")),
        }
    }

    /// The record's history, oldest first: the registration, then every event.
    pub async fn history(&self, key: u64) -> Result<Vec<HistoryEntry>> {
        let view = self.resident(key).await?;
        let mut entries = vec![HistoryEntry {
            version: 1,
            kind: "registered".into(),
            date: view.registration.date,
            recorded_at: view.registered_at,
            actor: view.registered_by.clone(),
            event: None,
        }];
        let rows = self
            .read_all(
                "SELECT version, kind, recorded_at, actor, event FROM resident_events \
                 WHERE resident_id = $1 ORDER BY version",
                &[to_i64(key)?.into()],
            )
            .await?;
        for row in rows {
            let version = row.key(0)?;
            let event: ResidentEvent =
                self.open_record(&event_place(key, version), &row.bytes(4)?)?;
            entries.push(HistoryEntry {
                version,
                kind: row.text(1)?,
                date: event.date(),
                recorded_at: row.int(2)?,
                actor: row.text(3)?,
                event: Some(event),
            });
        }
        Ok(entries)
    }

    /// How many residents are stored.
    pub async fn resident_count(&self) -> Result<u64> {
        let row = self.read_one("SELECT COUNT(*) FROM residents", &[]).await?;
        to_u64(row.int(0)?)
    }
}
