//! Changing a resident's My Number after a leak: the old number is retired, with
//! its reason sealed, and linked to the new one; neither is ever reused.

use super::{number_place, resident_row};
use crate::backend::{now_micros, to_i64};
use crate::counters::REPLACEMENT_COUNTER;
use crate::{Result, Store};
use chrono::NaiveDate;
use maina_core::officer::Actor;
use maina_core::resident::{NumberChangeReason, ResidentEvent};
use maina_core::MyNumber;

impl Store {
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
        let row = resident_row(&mut tx, key).await?;
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
        self.apply_in_tx(
            &mut tx,
            row,
            &event,
            actor,
            chrono::Local::now().date_naive(),
        )
        .await?;
        let now = now_micros();
        let sealed_reason = self.seal_record(&number_place(retired_key), &reason)?;
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
}
