//! The resident registry's repository: municipalities, registration (single and in
//! batches), returning residents, changes as events, number look-up and change,
//! history, the search index and bulk-import checkpoints.
//!
//! A resident row carries its registration sealed at `residents/KEY/registration`
//! and, once changed, its current record sealed at `residents/KEY/vVERSION`; each
//! event is sealed at `resident_events/KEY/vVERSION`, a retired number's reason at
//! `numbers/NUMBER_KEY`.

mod card_moves;
mod changes;
mod imports;
mod municipalities;
mod number_change;
mod read;
mod register;
mod returning;
mod search_index;

pub use card_moves::{CardMove, STAY_ENDED};
pub use imports::{ImportProgress, ImportState};

use crate::backend::{to_i64, Query, Row};
use crate::{Result, StoreError};
use chrono::NaiveDate;
use maina_core::person::FieldError;
use maina_core::resident::{Registration, ResidentEvent, ResidentRecord, ResidentStatus};
use maina_core::{MunicipalityCode, MyNumber, ResidentCode};
use serde::Serialize;

/// A municipality known to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Municipality {
    pub code: MunicipalityCode,
    pub name_ja: String,
    pub name_en: String,
}

/// A registration that went in: its codes and whether it was a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub resident_key: u64,
    pub resident_code: ResidentCode,
    /// Serialised masked: a clear number reaches JSON only through an audited reveal.
    #[serde(serialize_with = "maina_core::id::serialize_masked")]
    pub my_number: MyNumber,
    /// True when the person had a record before (left Japan and came back): the
    /// same record and the same number were taken up again.
    pub returned: bool,
}

/// A row that was not written, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The line of the input file (0 outside imports).
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(line: u64, error: &FieldError) -> Self {
        Self {
            line,
            field: error.field.to_string(),
            reason: error.reason.clone(),
        }
    }
}

/// The outcome of one row of a batch.
pub type RowOutcome = std::result::Result<Registered, Rejection>;

/// A registration prepared for insertion: numbered and sealed. Building these is
/// pure computation (see [`Store::seal_registrations`]), so a caller can do it on
/// another thread while the database inserts the previous batch.
#[derive(Debug)]
pub struct SealedRegistration {
    line: u64,
    key: u64,
    registration: Registration,
    sealed: Vec<u8>,
    identity: Option<i64>,
    birth_key: i64,
    registered: Registered,
}

/// A resident record as read back.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    pub resident_key: u64,
    pub resident_code: ResidentCode,
    /// The current number. `Serialize` writes it masked; showing it in clear is the
    /// caller's explicit, audited choice.
    #[serde(serialize_with = "maina_core::id::serialize_masked")]
    pub my_number: MyNumber,
    pub status: ResidentStatus,
    pub version: u64,
    pub record: ResidentRecord,
    pub registration: Registration,
    pub registered_at: i64,
    pub registered_by: String,
    pub updated_at: i64,
}

/// One entry of a record's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub kind: String,
    pub date: NaiveDate,
    pub recorded_at: i64,
    pub actor: String,
    /// `None` for version 1: the registration itself (see [`ResidentView::registration`]).
    pub event: Option<ResidentEvent>,
}

/// What the registry knows of a My Number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum NumberStatus {
    /// In use by a resident.
    Active { resident_key: u64 },
    /// Changed after a leak; it will never be issued again.
    Retired {
        resident_key: u64,
        retired_at: i64,
        #[serde(serialize_with = "maina_core::id::serialize_masked")]
        replaced_by: MyNumber,
    },
    /// Valid form, but never issued by this registry.
    NotIssued,
}

pub(crate) fn registration_place(key: u64) -> String {
    format!("residents/{key}/registration")
}

pub(crate) fn current_place(key: u64, version: u64) -> String {
    format!("residents/{key}/v{version}")
}

pub(crate) fn event_place(key: u64, version: u64) -> String {
    format!("resident_events/{key}/v{version}")
}

pub(crate) fn number_place(number_key: u64) -> String {
    format!("numbers/{number_key}")
}

/// The stored columns of a resident row.
struct ResidentRow {
    key: u64,
    status: ResidentStatus,
    version: u64,
    number_key: u64,
    registered_at: i64,
    registered_by: String,
    updated_at: i64,
    registration: Vec<u8>,
    current: Option<Vec<u8>>,
}

impl ResidentRow {
    fn decode(row: &Row) -> Result<Self> {
        decode_row!(row => ResidentRow {
            key: key, status: parsed, version: key, number_key: key,
            registered_at: int, registered_by: text, updated_at: int,
            registration: bytes, current: opt_bytes,
        })
    }
}

/// One new resident row: id, municipality, time, actor, sealed registration; the
/// id doubles as the first number's key and the time as the update time (the
/// benchmarks' ceiling inserts the same tuple).
pub(crate) const RESIDENT_TUPLE: &str = "($1, $2, 'active', 1, $1, $3, $4, $3, $5)";

const RESIDENT_COLUMNS: &str =
    "id, status, version, number_key, registered_at, registered_by, updated_at, registration, current";

/// The resident row with this key, through a transaction or a reader.
async fn resident_row(conn: &mut impl Query, key: u64) -> Result<ResidentRow> {
    load_row(conn, key)
        .await?
        .ok_or(StoreError::NotFound("resident"))
}

/// Loads a resident row through a transaction or a reader, if there is one.
async fn load_row(conn: &mut impl Query, key: u64) -> Result<Option<ResidentRow>> {
    let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE id = $1");
    match conn.fetch_optional(&sql, &[to_i64(key)?.into()]).await? {
        Some(row) => Ok(Some(ResidentRow::decode(&row)?)),
        None => Ok(None),
    }
}

impl SealedRegistration {
    /// Size of the sealed record in bytes.
    pub fn sealed_len(&self) -> usize {
        self.sealed.len()
    }
}
