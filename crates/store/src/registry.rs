//! The resident registry's repository: municipalities, registration (single and in
//! batches), changes as events, number look-up and change, history, bulk-import
//! checkpoints and the access log.

use crate::db::{Reader, Row, Tx, Value};
use crate::{
    now_micros, to_i64, to_u64, Result, Store, StoreError, REPLACEMENT_COUNTER, RESIDENT_COUNTER,
};
use chrono::NaiveDate;
use hmac::Mac;
use maina_core::authority::NumberKey;
use maina_core::officer::Actor;
use maina_core::person::{Citizenship, FieldError};
use maina_core::resident::{
    NumberChangeReason, Registration, ResidentEvent, ResidentRecord, ResidentStatus,
    TransitionError,
};
use maina_core::{MunicipalityCode, MyNumber, NumberAuthority, ResidentCode};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::{HashMap, HashSet};

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

/// Where a bulk import stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportState {
    pub next_line: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub finished: bool,
}

/// The progress an import batch commits together with its rows, so that a run
/// killed at any point resumes exactly where its last commit ended.
#[derive(Debug, Clone)]
pub struct ImportProgress {
    pub file_hash: String,
    pub file_name: String,
    /// The first line not yet processed once this batch commits.
    pub next_line: u64,
    /// Rows of this batch refused before reaching the database.
    pub rejections: Vec<Rejection>,
}

/// A resident record as read back.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    pub resident_key: u64,
    pub resident_code: ResidentCode,
    /// The current number. `Serialize` writes it in clear: callers decide whether
    /// to show it (and audit that they did).
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
        replaced_by: MyNumber,
    },
    /// Valid form, but never issued by this registry.
    NotIssued,
}

/// The stored encoding of sealed records: this byte, then postcard. Postcard is
/// compact (a synthetic registration: about 110 bytes against 360 as JSON), which
/// at national scale is a third of the I/O and of the disk; the version byte is
/// where a later change of the records' shape is told apart.
const RECORD_FORMAT: u8 = 1;

fn seal_record<T: Serialize>(store: &Store, place: &str, value: &T) -> Result<Vec<u8>> {
    let plain = postcard::to_extend(value, vec![RECORD_FORMAT])
        .map_err(|e| StoreError::Corrupt(format!("{place}: {e}")))?;
    Ok(store.sealer.seal(place, &plain)?)
}

fn open_record<T: DeserializeOwned>(store: &Store, place: &str, sealed: &[u8]) -> Result<T> {
    let plain = store.sealer.open(place, sealed)?;
    match plain.split_first() {
        Some((&RECORD_FORMAT, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(format!("{place}: {e}")))
        }
        _ => Err(StoreError::Corrupt(format!(
            "{place}: unknown record format"
        ))),
    }
}

fn registration_place(key: u64) -> String {
    format!("residents/{key}/registration")
}

fn current_place(key: u64, version: u64) -> String {
    format!("residents/{key}/v{version}")
}

fn event_place(key: u64, version: u64) -> String {
    format!("resident_events/{key}/v{version}")
}

fn number_place(number_key: u64) -> String {
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

const RESIDENT_COLUMNS: &str =
    "id, status, version, number_key, registered_at, registered_by, updated_at, registration, current";

impl ResidentRow {
    fn decode(row: &Row) -> Result<Self> {
        Ok(Self {
            key: to_u64(row.int(0)?)?,
            status: row
                .text(1)?
                .parse()
                .map_err(|e: FieldError| StoreError::Corrupt(e.to_string()))?,
            version: to_u64(row.int(2)?)?,
            number_key: to_u64(row.int(3)?)?,
            registered_at: row.int(4)?,
            registered_by: row.text(5)?,
            updated_at: row.int(6)?,
            registration: row.bytes(7)?,
            current: row.opt_bytes(8)?,
        })
    }
}

const BIRTH_INDEX_INSERT: &str = "INSERT INTO birth_index_pending (key, resident_id) VALUES";
const BIRTH_INDEX_TUPLE: &str = "($1, $2)";
const IDENTITY_INSERT: &str = "INSERT INTO identity_index (identity, resident_id) VALUES";
const RESIDENT_INSERT: &str =
    "INSERT INTO residents (id, municipality, status, version, number_key, \
     registered_at, registered_by, updated_at, registration) VALUES";
const CEILING_INSERT: &str =
    "INSERT INTO bench_ceiling (id, municipality, status, version, number_key, \
     registered_at, registered_by, updated_at, registration) VALUES";
/// One new resident row: id, municipality, time, actor, sealed registration; the
/// id doubles as the first number's key and the time as the update time.
const RESIDENT_TUPLE: &str = "($1, $2, 'active', 1, $1, $3, $4, $3, $5)";

/// Loads a resident row through a transaction or a reader.
macro_rules! load_row {
    ($conn:expr, $key:expr) => {{
        let sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE id = $1");
        match $conn.fetch_optional(&sql, &[to_i64($key)?.into()]).await? {
            Some(row) => Some(ResidentRow::decode(&row)?),
            None => None,
        }
    }};
}

impl Store {
    pub(crate) async fn reader(&self) -> Reader<'_> {
        self.pool.reader().await
    }

    // ---- municipalities -------------------------------------------------------

    /// Adds a municipality, or renames it if it exists.
    pub async fn put_municipality(&self, municipality: &Municipality) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO municipalities (code, name_ja, name_en) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en",
            &[
                municipality.code.as_digits().into(),
                municipality.name_ja.as_str().into(),
                municipality.name_en.as_str().into(),
            ],
        )
        .await?;
        tx.commit().await
    }

    /// All municipalities, by code.
    pub async fn municipalities(&self) -> Result<Vec<Municipality>> {
        let rows = self
            .reader()
            .await
            .fetch_all(
                "SELECT code, name_ja, name_en FROM municipalities ORDER BY code",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Municipality {
                    code: row
                        .text(0)?
                        .parse()
                        .map_err(|e: maina_core::IdError| StoreError::Corrupt(e.to_string()))?,
                    name_ja: row.text(1)?,
                    name_en: row.text(2)?,
                })
            })
            .collect()
    }

    async fn known_municipalities(
        tx: &mut Tx<'_>,
        codes: &HashSet<String>,
    ) -> Result<HashSet<String>> {
        let mut known = HashSet::new();
        for code in codes {
            let found = tx
                .fetch_optional(
                    "SELECT 1 FROM municipalities WHERE code = $1",
                    &[code.as_str().into()],
                )
                .await?;
            if found.is_some() {
                known.insert(code.clone());
            }
        }
        Ok(known)
    }

    // ---- registration ---------------------------------------------------------

    /// Reserves `count` resident keys. Keys that end up unused (a crash, a rejected
    /// row, a returning resident) are simply never issued: numbers stay unique.
    pub async fn reserve_resident_keys(&self, count: u64) -> Result<std::ops::Range<u64>> {
        let mut tx = self.pool.begin().await?;
        let keys = Self::take_keys(&mut tx, RESIDENT_COUNTER, count).await?;
        tx.commit().await?;
        Ok(keys)
    }

    pub(crate) fn identity_hash(&self, identity: &str) -> Vec<u8> {
        // A keyed hash: the index finds a returning person without storing their
        // passport number, and cannot be searched without the key file. The keyed
        // state is prepared once (at open) and cloned: half the hashing work.
        let mut mac = (*self.identity_mac).clone();
        mac.update(identity.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A 64-bit keyed hash: index keys stay small (the index stays in cache at
    /// national scale); every match is confirmed against the sealed record.
    pub(crate) fn short_hash(&self, text: &str) -> i64 {
        let hash = self.identity_hash(text);
        let mut bytes = [0u8; 8];
        for (slot, byte) in bytes.iter_mut().zip(hash.iter()) {
            *slot = *byte;
        }
        i64::from_be_bytes(bytes)
    }

    /// The blind-index key of a municipality and a birth date.
    fn birth_key(&self, municipality: &MunicipalityCode, birth_date: NaiveDate) -> i64 {
        self.short_hash(&format!("birth|{}|{birth_date}", municipality.as_digits()))
    }

    /// Merges the pending search-index entries into the index, in key order. Bulk
    /// jobs call it when they finish and the server every half minute; searches read
    /// the pending entries too, so a merge changes speed, never answers.
    pub async fn merge_search_index(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::merge_search_index_in(&mut tx).await?;
        tx.commit().await
    }

    async fn merge_search_index_in(tx: &mut Tx<'_>) -> Result<()> {
        tx.execute(
            "INSERT INTO birth_index (key, resident_id) \
             SELECT key, resident_id FROM birth_index_pending WHERE true ORDER BY key, resident_id \
             ON CONFLICT DO NOTHING",
            &[],
        )
        .await?;
        tx.execute("DELETE FROM birth_index_pending", &[]).await?;
        Ok(())
    }

    /// Residents of `municipality` born on `birth_date` whose name (kanji, kana,
    /// alphabet or alias; spaces ignored) contains `name`, at most `limit`.
    pub async fn search(
        &self,
        municipality: &MunicipalityCode,
        birth_date: NaiveDate,
        name: &str,
        limit: usize,
    ) -> Result<Vec<ResidentView>> {
        let wanted: String = maina_core::person::search_form(name);
        let keys = self
            .reader()
            .await
            .fetch_all(
                "SELECT resident_id FROM birth_index WHERE key = $1 \
                 UNION SELECT resident_id FROM birth_index_pending WHERE key = $2 ORDER BY 1",
                &[
                    self.birth_key(municipality, birth_date).into(),
                    self.birth_key(municipality, birth_date).into(),
                ],
            )
            .await?;
        let mut found = Vec::new();
        for row in keys {
            let view = self.resident(to_u64(row.int(0)?)?).await?;
            let person = &view.record.person;
            if view.record.municipality == *municipality
                && person.birth_date == birth_date
                && person
                    .name
                    .search_forms()
                    .iter()
                    .any(|form| form.contains(&wanted))
            {
                found.push(view);
                if found.len() >= limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Numbers and seals registrations with the keys reserved for them (pure CPU).
    pub fn seal_registrations(
        &self,
        keys: std::ops::Range<u64>,
        rows: Vec<(u64, Registration)>,
    ) -> Result<Vec<SealedRegistration>> {
        if keys.end.saturating_sub(keys.start) < rows.len() as u64 {
            return Err(StoreError::Corrupt("fewer keys reserved than rows".into()));
        }
        rows.into_iter()
            .zip(keys)
            .map(|((line, registration), key)| {
                let sealed = seal_record(self, &registration_place(key), &registration)?;
                let identity = registration
                    .person
                    .foreign_identity()
                    .map(|id| self.short_hash(&id));
                let registered = Registered {
                    resident_key: key,
                    resident_code: self.authority.resident_code(key)?,
                    my_number: self.authority.my_number(key)?,
                    returned: false,
                };
                // Computed here, on the caller's (producer's) thread, not the writer's.
                let birth_key =
                    self.birth_key(&registration.municipality, registration.person.birth_date);
                Ok(SealedRegistration {
                    line,
                    key,
                    birth_key,
                    registration,
                    sealed,
                    identity,
                    registered,
                })
            })
            .collect()
    }

    /// Registers one resident.
    pub async fn register(&self, registration: Registration, actor: &Actor) -> Result<Registered> {
        let keys = self.reserve_resident_keys(1).await?;
        let sealed = self.seal_registrations(keys, vec![(0, registration)])?;
        let outcome = self.insert_sealed(sealed, None, actor).await?;
        match outcome.into_iter().next() {
            Some(Ok(registered)) => Ok(registered),
            Some(Err(rejection)) => Err(StoreError::Rejected(
                FieldError {
                    field: field_name(&rejection.field),
                    reason: rejection.reason,
                }
                .into(),
            )),
            None => Err(StoreError::Corrupt("empty batch outcome".into())),
        }
    }

    /// Writes a sealed batch in one transaction, together with the import's progress
    /// when given. Returns one outcome per row, in order: rows that break a rule the
    /// database decides (unknown municipality, a return that does not match) are
    /// rejected and leave no trace; the others are all written, or none is.
    pub async fn insert_sealed(
        &self,
        mut batch: Vec<SealedRegistration>,
        progress: Option<ImportProgress>,
        actor: &Actor,
    ) -> Result<Vec<RowOutcome>> {
        let mut tx = self.pool.begin().await?;
        let codes: HashSet<String> = batch
            .iter()
            .map(|r| r.registration.municipality.as_digits())
            .collect();
        let known = Self::known_municipalities(&mut tx, &codes).await?;

        let identities: Vec<i64> = batch.iter().filter_map(|r| r.identity).collect();
        let known_people = Self::identity_matches(&mut tx, &identities).await?;

        let now = now_micros();
        let mut outcomes: Vec<RowOutcome> = Vec::with_capacity(batch.len());
        let mut fresh: Vec<Vec<Value>> = Vec::with_capacity(batch.len());
        let mut fresh_identities: Vec<Vec<Value>> = Vec::new();
        let mut birth_keys: Vec<Vec<Value>> = Vec::with_capacity(batch.len());
        let mut seen_in_batch: HashSet<i64> = HashSet::new();
        // (outcome index, earlier resident's key, row index in the batch)
        let mut returns: Vec<(usize, u64, usize)> = Vec::new();
        for (row_index, row) in batch.iter_mut().enumerate() {
            let index = outcomes.len();
            if !known.contains(&row.registration.municipality.as_digits()) {
                outcomes.push(Err(Rejection::new(
                    row.line,
                    &FieldError::new(
                        "municipality",
                        "is not a municipality of this registry (maina municipality add)",
                    ),
                )));
                continue;
            }
            if let Some(identity) = &row.identity {
                if !seen_in_batch.insert(*identity) {
                    outcomes.push(Err(Rejection::new(
                        row.line,
                        &FieldError::new(
                            "passport",
                            "the same person (nationality, passport, birth date) appears twice in this batch",
                        ),
                    )));
                    continue;
                }
            }
            // An earlier record of the same person: found by identity (foreign
            // nationals), else by the earlier resident record code they bring
            // (Japanese nationals, or a foreign national with a renewed passport).
            let earlier = match (
                row.identity
                    .as_ref()
                    .and_then(|identity| known_people.get(identity)),
                &row.registration.prior_resident_code,
            ) {
                (Some(key), _) => Some(*key),
                (None, Some(prior)) => Some(self.authority.resident_key(prior)?),
                (None, None) => None,
            };
            outcomes.push(Ok(row.registered.clone()));
            match earlier {
                Some(key) => returns.push((index, key, row_index)),
                None => {
                    fresh.push(vec![
                        to_i64(row.key)?.into(),
                        row.registration.municipality.as_digits().into(),
                        now.into(),
                        actor.officer.as_str().into(),
                        // Moved, not copied: the sealed blob is not needed again.
                        std::mem::take(&mut row.sealed).into(),
                    ]);
                    birth_keys.push(vec![row.birth_key.into(), to_i64(row.key)?.into()]);
                    if let Some(identity) = &row.identity {
                        fresh_identities.push(vec![(*identity).into(), to_i64(row.key)?.into()]);
                    }
                }
            }
        }
        tx.insert_many(IDENTITY_INSERT, "($1, $2)", &fresh_identities)
            .await?;
        tx.insert_many(RESIDENT_INSERT, RESIDENT_TUPLE, &fresh)
            .await?;
        tx.insert_many(BIRTH_INDEX_INSERT, BIRTH_INDEX_TUPLE, &birth_keys)
            .await?;

        for (index, key, row_index) in returns {
            let Some(row) = batch.get(row_index) else {
                continue;
            };
            let outcome = self.take_up_return(&mut tx, key, row, actor).await?;
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = outcome;
            }
        }

        let registered: Vec<u64> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|r| r.resident_key))
            .collect();
        match registered.as_slice() {
            [] => {}
            [one] => {
                self.audit_in(&mut tx, actor, "register", Some(*one))
                    .await?
            }
            many => {
                let action = format!("register-batch {} residents", many.len());
                self.audit_in(&mut tx, actor, &action, None).await?;
            }
        }
        if let Some(progress) = progress {
            let mut rejections = progress.rejections.clone();
            rejections.extend(outcomes.iter().filter_map(|o| o.as_ref().err().cloned()));
            let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
            Self::record_progress(&mut tx, &progress, accepted as u64, &rejections).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn identity_matches(tx: &mut Tx<'_>, identities: &[i64]) -> Result<HashMap<i64, u64>> {
        let mut found = HashMap::new();
        // One query per chunk: an IN list walks the primary key once per value
        // without a round trip each.
        for chunk in identities.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT identity, resident_id FROM identity_index WHERE identity IN ({})",
                placeholders.join(",")
            );
            let params: Vec<Value> = chunk.iter().map(|i| (*i).into()).collect();
            for row in tx.fetch_all(&sql, &params).await? {
                found.insert(row.int(0)?, to_u64(row.int(1)?)?);
            }
        }
        Ok(found)
    }

    /// A person with an earlier record registers again: the earlier record (and its
    /// number) is taken up if it is departed and the identity matches.
    async fn take_up_return(
        &self,
        tx: &mut Tx<'_>,
        key: u64,
        row: &SealedRegistration,
        actor: &Actor,
    ) -> Result<RowOutcome> {
        let mismatch = |reason: &str| {
            let field = if row.identity.is_some() {
                "passport"
            } else {
                "prior_resident_code"
            };
            Ok(Err(Rejection::new(
                row.line,
                &FieldError::new(field, reason),
            )))
        };
        let Some(stored) = load_row!(tx, key) else {
            return mismatch("matches no earlier resident record");
        };
        let record = self.current_record(&stored)?;
        match record.status {
            ResidentStatus::Departed => {}
            ResidentStatus::Active => {
                return mismatch("this person is already registered as a resident")
            }
            ResidentStatus::Deceased => return mismatch("the earlier record is closed (deceased)"),
        }
        let found_by_identity =
            row.identity.is_some() && row.registration.prior_resident_code.is_none();
        // The index key is a 64-bit truncated hash: confirm the candidate against the
        // sealed record, so that even a hash collision can never join two people.
        let same_nationality = match (
            &record.person.citizenship,
            &row.registration.person.citizenship,
        ) {
            (
                Citizenship::Foreign { nationality: a, .. },
                Citizenship::Foreign { nationality: b, .. },
            ) => a == b,
            (Citizenship::Japanese, Citizenship::Japanese) => true,
            _ => false,
        };
        if found_by_identity && !same_nationality {
            return mismatch("matches no earlier resident record");
        }
        let same_person = record.person.birth_date == row.registration.person.birth_date
            && (found_by_identity
                || record.person.name.matching_key()
                    == row.registration.person.name.matching_key());
        if !same_person {
            return mismatch("the name and birth date do not match the earlier record");
        }
        let event = ResidentEvent::Returned {
            registration: row.registration.clone(),
        };
        let number_key = stored.number_key;
        match self.apply_in_tx(tx, stored, &event, actor).await {
            Ok(_) => {}
            Err(StoreError::Rejected(TransitionError::Field(error))) => {
                return Ok(Err(Rejection::new(row.line, &error)))
            }
            Err(StoreError::Rejected(error)) => {
                return Ok(Err(Rejection {
                    line: row.line,
                    field: "registration".into(),
                    reason: error.to_string(),
                }))
            }
            Err(other) => return Err(other),
        }
        if let Some(identity) = &row.identity {
            // A renewed passport: index the new identity too.
            tx.execute(
                "INSERT INTO identity_index (identity, resident_id) VALUES ($1, $2) ON CONFLICT (identity) DO NOTHING",
                &[(*identity).into(), to_i64(key)?.into()],
            )
            .await?;
        }
        Ok(Ok(Registered {
            resident_key: key,
            resident_code: self.authority.resident_code(key)?,
            my_number: self.authority.my_number(number_key)?,
            returned: true,
        }))
    }

    // ---- reads ----------------------------------------------------------------

    fn current_record(&self, row: &ResidentRow) -> Result<ResidentRecord> {
        match &row.current {
            Some(sealed) => open_record(self, &current_place(row.key, row.version), sealed),
            None => {
                let registration: Registration =
                    open_record(self, &registration_place(row.key), &row.registration)?;
                Ok(ResidentRecord::registered(&registration))
            }
        }
    }

    fn view(&self, row: ResidentRow) -> Result<ResidentView> {
        // The registration is opened once; a record never changed since is derived
        // from it rather than opened a second time.
        let registration: Registration =
            open_record(self, &registration_place(row.key), &row.registration)?;
        let record = match &row.current {
            Some(sealed) => open_record(self, &current_place(row.key, row.version), sealed)?,
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
        let row = load_row!(reader, key).ok_or(StoreError::NotFound("resident"))?;
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
            let resident_key = to_u64(row.int(0)?)?;
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
                    Some(row) if to_u64(row.int(0)?)? == number_key => {
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
            .reader()
            .await
            .fetch_all(
                "SELECT version, kind, recorded_at, actor, event FROM resident_events \
                 WHERE resident_id = $1 ORDER BY version",
                &[to_i64(key)?.into()],
            )
            .await?;
        for row in rows {
            let version = to_u64(row.int(0)?)?;
            let event: ResidentEvent =
                open_record(self, &event_place(key, version), &row.bytes(4)?)?;
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
        let row = self
            .reader()
            .await
            .fetch_one("SELECT COUNT(*) FROM residents", &[])
            .await?;
        to_u64(row.int(0)?)
    }

    // ---- changes --------------------------------------------------------------

    /// Applies a change to a resident record, as one transaction.
    pub async fn apply(
        &self,
        key: u64,
        event: ResidentEvent,
        actor: &Actor,
    ) -> Result<ResidentView> {
        if matches!(
            event,
            ResidentEvent::NumberChanged { .. } | ResidentEvent::Returned { .. }
        ) {
            // These carry store keys or identity checks: use change_number / register.
            return Err(StoreError::Rejected(
                FieldError::new("event", "use the number-change or registration operation").into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let row = load_row!(tx, key).ok_or(StoreError::NotFound("resident"))?;
        self.apply_in_tx(&mut tx, row, &event, actor).await?;
        tx.commit().await?;
        self.resident(key).await
    }

    /// Changes a resident's My Number (it leaked and fraud is feared): the old number
    /// is retired with its reason and linked to the new one; neither is ever reused.
    pub async fn change_number(
        &self,
        key: u64,
        date: NaiveDate,
        reason: NumberChangeReason,
        actor: &Actor,
    ) -> Result<(MyNumber, MyNumber)> {
        let mut tx = self.pool.begin().await?;
        let row = load_row!(tx, key).ok_or(StoreError::NotFound("resident"))?;
        let retired_key = row.number_key;
        let new_key = Self::take_keys(&mut tx, REPLACEMENT_COUNTER, 1)
            .await?
            .start;
        let new_number = self.authority.my_number(new_key)?;
        let event = ResidentEvent::NumberChanged {
            date,
            reason: reason.clone(),
            retired_key,
            new_key,
        };
        self.apply_in_tx(&mut tx, row, &event, actor).await?;
        let now = now_micros();
        let sealed_reason = seal_record(self, &number_place(retired_key), &reason)?;
        tx.execute(
            "INSERT INTO numbers (number_key, resident_id, issued_at, retired_at, retired_reason, replaced_by) \
             VALUES ($1, $2, $3, $3, $4, $5) \
             ON CONFLICT (number_key) DO UPDATE SET retired_at = excluded.retired_at, \
             retired_reason = excluded.retired_reason, replaced_by = excluded.replaced_by",
            &[
                to_i64(retired_key)?.into(),
                to_i64(key)?.into(),
                now.into(),
                sealed_reason.into(),
                to_i64(new_key)?.into(),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO numbers (number_key, resident_id, issued_at) VALUES ($1, $2, $3)",
            &[to_i64(new_key)?.into(), to_i64(key)?.into(), now.into()],
        )
        .await?;
        tx.execute(
            "UPDATE residents SET number_key = $1 WHERE id = $2",
            &[to_i64(new_key)?.into(), to_i64(key)?.into()],
        )
        .await?;
        tx.commit().await?;
        Ok((self.authority.my_number(retired_key)?, new_number))
    }

    /// The one place a resident row changes: decide with the domain, append the
    /// event, replace the current state (optimistically, by version).
    async fn apply_in_tx(
        &self,
        tx: &mut Tx<'_>,
        row: ResidentRow,
        event: &ResidentEvent,
        actor: &Actor,
    ) -> Result<ResidentRecord> {
        let record = self.current_record(&row)?;
        let next = event.apply(&record)?;
        if let ResidentEvent::Moved { municipality, .. } = event {
            let codes = HashSet::from([municipality.as_digits()]);
            if Self::known_municipalities(tx, &codes).await?.is_empty() {
                return Err(StoreError::Rejected(
                    FieldError::new("municipality", "is not a municipality of this registry")
                        .into(),
                ));
            }
        }
        let key = row.key;
        let version = row.version + 1;
        let now = now_micros();
        // The version-checked update first: a concurrent change matches no row (a
        // Conflict to retry) before any event is appended.
        let updated = tx
            .execute(
                "UPDATE residents SET status = $1, version = $2, municipality = $3, updated_at = $4, current = $5 \
                 WHERE id = $6 AND version = $7",
                &[
                    next.status.as_str().into(),
                    to_i64(version)?.into(),
                    next.municipality.as_digits().into(),
                    now.into(),
                    seal_record(self, &current_place(key, version), &next)?.into(),
                    to_i64(key)?.into(),
                    to_i64(row.version)?.into(),
                ],
            )
            .await?;
        if updated != 1 {
            return Err(StoreError::Conflict);
        }
        tx.execute(
            "INSERT INTO resident_events (resident_id, version, kind, effective_date, recorded_at, actor, event) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                to_i64(key)?.into(),
                to_i64(version)?.into(),
                event.kind().into(),
                event.date().to_string().into(),
                now.into(),
                actor.officer.as_str().into(),
                seal_record(self, &event_place(key, version), event)?.into(),
            ],
        )
        .await?;
        self.audit_in(tx, actor, event.kind(), Some(key)).await?;
        if let Some((scope, reason)) = maina_core::card::revocation_for(event) {
            self.revoke_for_event(tx, key, scope, reason, now).await?;
        }
        if next.municipality != record.municipality
            || next.person.birth_date != record.person.birth_date
        {
            // Old keys stay (they only cost a filtered false match); the new one finds
            // the resident in the new municipality.
            tx.execute(
                "INSERT INTO birth_index_pending (key, resident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[
                    self.birth_key(&next.municipality, next.person.birth_date)
                        .into(),
                    to_i64(key)?.into(),
                ],
            )
            .await?;
        }
        Ok(next)
    }

    // ---- imports --------------------------------------------------------------

    /// Where the import of the file with this hash stands, if it was started.
    pub async fn import_state(&self, file_hash: &str) -> Result<Option<ImportState>> {
        let row = self
            .reader()
            .await
            .fetch_optional(
                "SELECT next_line, accepted, rejected, finished_at FROM imports WHERE file_hash = $1",
                &[file_hash.into()],
            )
            .await?;
        row.map(|row| {
            Ok(ImportState {
                next_line: to_u64(row.int(0)?)?,
                accepted: to_u64(row.int(1)?)?,
                rejected: to_u64(row.int(2)?)?,
                finished: row.opt_int(3)?.is_some(),
            })
        })
        .transpose()
    }

    async fn record_progress(
        tx: &mut Tx<'_>,
        progress: &ImportProgress,
        accepted: u64,
        rejections: &[Rejection],
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO imports (file_hash, file_name, started_at, next_line, accepted, rejected) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (file_hash) DO UPDATE SET next_line = excluded.next_line, \
             accepted = imports.accepted + excluded.accepted, rejected = imports.rejected + excluded.rejected",
            &[
                progress.file_hash.as_str().into(),
                progress.file_name.as_str().into(),
                now_micros().into(),
                to_i64(progress.next_line)?.into(),
                to_i64(accepted)?.into(),
                to_i64(rejections.len() as u64)?.into(),
            ],
        )
        .await?;
        for rejection in rejections {
            tx.execute(
                "INSERT INTO import_rejections (file_hash, line, field, reason) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (file_hash, line) DO NOTHING",
                &[
                    progress.file_hash.as_str().into(),
                    to_i64(rejection.line)?.into(),
                    rejection.field.as_str().into(),
                    rejection.reason.as_str().into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Marks an import finished.
    pub async fn finish_import(&self, file_hash: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE imports SET finished_at = $1 WHERE file_hash = $2",
            &[now_micros().into(), file_hash.into()],
        )
        .await?;
        tx.commit().await
    }

    /// Every rejected row of an import, by line.
    pub async fn import_rejections(&self, file_hash: &str) -> Result<Vec<Rejection>> {
        let rows = self
            .reader()
            .await
            .fetch_all(
                "SELECT line, field, reason FROM import_rejections WHERE file_hash = $1 ORDER BY line",
                &[file_hash.into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Rejection {
                    line: to_u64(row.int(0)?)?,
                    field: row.text(1)?,
                    reason: row.text(2)?,
                })
            })
            .collect()
    }

    // ---- benchmark support ----------------------------------------------------

    /// The ceiling for the numbering benchmark: a bare batched insert of rows of the
    /// residents' shape, with one sequential unique key, through the same connection
    /// and the same insert path, with no validation, numbering or sealing.
    pub async fn bench_bare_insert(
        &self,
        start: u64,
        blobs: &[Vec<u8>],
        municipality: &str,
    ) -> Result<()> {
        let now = now_micros();
        let rows = blobs
            .iter()
            .zip(start..)
            .map(|(blob, id)| {
                Ok(vec![
                    to_i64(id)?.into(),
                    municipality.into(),
                    now.into(),
                    "bench".into(),
                    blob.clone().into(),
                ])
            })
            .collect::<Result<Vec<Vec<Value>>>>()?;
        let mut tx = self.pool.begin().await?;
        tx.insert_many(CEILING_INSERT, RESIDENT_TUPLE, &rows)
            .await?;
        tx.commit().await
    }

    /// Empties the benchmark's ceiling table.
    pub async fn bench_reset(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute("DELETE FROM bench_ceiling", &[]).await?;
        tx.commit().await
    }
}

/// The field names the domain uses, as `'static` strings for [`FieldError`].
fn field_name(name: &str) -> &'static str {
    const FIELDS: [&str; 8] = [
        "municipality",
        "passport",
        "prior_resident_code",
        "registration",
        "birth_date",
        "address",
        "name",
        "reason",
    ];
    FIELDS
        .iter()
        .find(|f| **f == name)
        .copied()
        .unwrap_or("registration")
}

impl SealedRegistration {
    /// Size of the sealed record in bytes.
    pub fn sealed_len(&self) -> usize {
        self.sealed.len()
    }
}
