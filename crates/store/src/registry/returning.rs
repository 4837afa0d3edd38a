//! A person with an earlier record registers again (left Japan and came back): the
//! earlier record and its number are taken up, if it is the same person.

use super::{load_row, Registered, Rejection, RowOutcome, SealedRegistration};
use crate::backend::{to_i64, Tx};
use crate::{Result, Store, StoreError};
use maina_core::officer::Actor;
use maina_core::person::{Citizenship, FieldError};
use maina_core::resident::{ResidentEvent, ResidentStatus, TransitionError};

impl Store {
    /// A person with an earlier record registers again: the earlier record (and its
    /// number) is taken up if it is departed and the identity matches.
    pub(super) async fn take_up_return(
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
        let Some(stored) = load_row(tx, key).await? else {
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
}
