//! Registration, single and in batches: keys are reserved, rows numbered and sealed
//! off the writer's thread, then written in one transaction per batch (returning
//! residents are handed to `returning`).

use super::{
    registration_place, ImportProgress, Registered, Rejection, RowOutcome, SealedRegistration,
    RESIDENT_TUPLE,
};
use crate::backend::{now_micros, to_i64, to_u64, Query, Tx, Value};
use crate::counters::RESIDENT_COUNTER;
use crate::{Result, Store, StoreError};
use maina_core::officer::Actor;
use maina_core::person::FieldError;
use maina_core::resident::Registration;
use std::collections::{HashMap, HashSet};

const BIRTH_INDEX_INSERT: &str = "INSERT INTO birth_index_pending (key, resident_id) VALUES";
const BIRTH_INDEX_TUPLE: &str = "($1, $2)";
const IDENTITY_INSERT: &str = "INSERT INTO identity_index (identity, resident_id) VALUES";
const RESIDENT_INSERT: &str =
    "INSERT INTO residents (id, municipality, status, version, number_key, \
     registered_at, registered_by, updated_at, registration) VALUES";

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

impl Store {
    /// Reserves `count` resident keys. Keys that end up unused (a crash, a rejected
    /// row, a returning resident) are simply never issued: numbers stay unique.
    pub async fn reserve_resident_keys(&self, count: u64) -> Result<std::ops::Range<u64>> {
        let mut tx = self.pool.begin().await?;
        let keys = Self::take_keys(&mut tx, RESIDENT_COUNTER, count).await?;
        tx.commit().await?;
        Ok(keys)
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
                let sealed = self.seal_record(&registration_place(key), &registration)?;
                let identity = registration
                    .person
                    .foreign_identity()
                    .map(|id| self.blind_index.identity_key(&id));
                let registered = Registered {
                    resident_key: key,
                    resident_code: self.authority.resident_code(key)?,
                    my_number: self.authority.my_number(key)?,
                    returned: false,
                };
                // Computed here, on the caller's (producer's) thread, not the writer's.
                let birth_key = self
                    .blind_index
                    .birth_key(&registration.municipality, registration.person.birth_date);
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
        let rejected =
            |line, field, reason| Err(Rejection::new(line, &FieldError::new(field, reason)));
        for (row_index, row) in batch.iter_mut().enumerate() {
            let index = outcomes.len();
            if !known.contains(&row.registration.municipality.as_digits()) {
                outcomes.push(rejected(
                    row.line,
                    "municipality",
                    "is not a municipality of this registry (maina municipality add)",
                ));
                continue;
            }
            if let Some(identity) = &row.identity {
                if !seen_in_batch.insert(*identity) {
                    outcomes.push(rejected(
                        row.line,
                        "passport",
                        "the same person (nationality, passport, birth date) appears twice in this batch",
                    ));
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

    pub(super) async fn identity_matches(
        tx: &mut Tx<'_>,
        identities: &[i64],
    ) -> Result<HashMap<i64, u64>> {
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
}
