//! A person with an earlier record registers again (left Japan and came back): the
//! earlier record and its number are taken up, if it is the same person.

use super::{load_row, Registered, Rejection, RowOutcome, SealedRegistration};
use crate::backend::{to_i64, Tx};
use crate::{Result, Store, StoreError};
use maina_core::officer::Actor;
use maina_core::person::{Citizenship, FieldError};
use maina_core::resident::{ResidentEvent, ResidentStatus, TransitionError};

/// The one answer to every refused return.
pub const NO_RETURN: &str =
    "no earlier resident record can be taken up for this person (check the code, the name and the birth date)";

/// The audit action of a refused return.
const REFUSED_ACTION: &str = "register-refused: no earlier record taken up";

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
        let field = if row.identity.is_some() {
            "passport"
        } else {
            "prior_resident_code"
        };
        // One answer for every refusal (unknown code, another person, a record that
        // is active or closed): what the registry holds must not be probed through
        // this form. The refusal itself is audited, naming the record when there is
        // one, so that probing shows in the trail.
        let refused = Rejection::new(row.line, &FieldError::new(field, NO_RETURN));
        let Some(stored) = load_row(tx, key).await? else {
            self.audit_in(tx, actor, REFUSED_ACTION, None).await?;
            return Ok(Err(refused));
        };
        let record = self.current_record(&stored)?;
        let found_by_identity =
            row.identity.is_some() && row.registration.prior_resident_code.is_none();
        // The identity first, then the record's state: the state of another
        // person's record is never an answer. The index key is a 64-bit truncated
        // hash: the candidate is confirmed against the sealed record, so that even a
        // hash collision can never join two people.
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
        let same_person = same_nationality
            && record.person.birth_date == row.registration.person.birth_date
            && (found_by_identity
                || record.person.name.matching_key()
                    == row.registration.person.name.matching_key());
        if !same_person || record.status != ResidentStatus::Departed {
            self.audit_in(tx, actor, REFUSED_ACTION, Some(key)).await?;
            return Ok(Err(refused));
        }
        let earlier_municipality = record.municipality;
        let event = ResidentEvent::Returned {
            registration: row.registration.clone(),
        };
        let number_key = stored.number_key;
        match self
            .apply_in_tx(tx, stored, &event, actor, chrono::Local::now().date_naive())
            .await
        {
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
        if earlier_municipality != row.registration.municipality {
            // A return into another municipality than the one left from: its own
            // audited step, naming both, so that neither municipality's trail
            // misses it.
            let action = format!(
                "return-from-abroad from {} into {}",
                earlier_municipality.as_digits(),
                row.registration.municipality.as_digits()
            );
            self.audit_in(tx, actor, &action, Some(key)).await?;
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
