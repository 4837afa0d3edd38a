//! Changes to a resident record, as events: the one place a resident row changes.

use super::{current_place, event_place, resident_row, ResidentRow, ResidentView};
use crate::backend::{now_micros, to_i64, Tx};
use crate::{Result, Store, StoreError};
use maina_core::officer::Actor;
use maina_core::person::FieldError;
use maina_core::resident::{ResidentEvent, ResidentRecord};
use std::collections::HashSet;

impl Store {
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
        let row = resident_row(&mut tx, key).await?;
        self.apply_in_tx(&mut tx, row, &event, actor).await?;
        tx.commit().await?;
        self.resident(key).await
    }

    /// The one place a resident row changes: decide with the domain, append the
    /// event, replace the current state (optimistically, by version).
    pub(super) async fn apply_in_tx(
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
                    self.seal_record(&current_place(key, version), &next)?.into(),
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
                self.seal_record(&event_place(key, version), event)?.into(),
            ],
        )
        .await?;
        self.audit_in(tx, actor, event.kind(), Some(key)).await?;
        if let Some((scope, reason)) = maina_core::card::revocation_for(event) {
            self.revoke_for_event(tx, key, scope, reason, actor, now)
                .await?;
        }
        if next.municipality != record.municipality
            || next.person.birth_date != record.person.birth_date
        {
            // Old keys stay (they only cost a filtered false match); the new one finds
            // the resident in the new municipality.
            tx.execute(
                "INSERT INTO birth_index_pending (key, resident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[
                    self.blind_index.birth_key(&next.municipality, next.person.birth_date)
                        .into(),
                    to_i64(key)?.into(),
                ],
            )
            .await?;
        }
        Ok(next)
    }
}
