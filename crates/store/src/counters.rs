//! The `counters` table: sequential keys for residents, replacement numbers,
//! officers, applications, e-mails and CRLs, handed out inside the caller's
//! transaction so that a key is never issued twice.

use crate::backend::{to_i64, to_u64, Query, Tx};
use crate::{Result, Store};

pub(crate) const RESIDENT_COUNTER: &str = "resident";
pub(crate) const REPLACEMENT_COUNTER: &str = "replacement_number";
pub(crate) const OFFICER_COUNTER: &str = "officer";
pub(crate) const APPLICATION_COUNTER: &str = "application";
pub(crate) const OUTBOX_COUNTER: &str = "outbox";
pub(crate) const CARD_NUMBER_COUNTER: &str = "card_number";
pub(crate) const SHIPMENT_COUNTER: &str = "shipment";
pub(crate) const ISSUE_NOTICE_COUNTER: &str = "issue_notice";

impl Store {
    /// Creates the counters a new database lacks, at their first values.
    pub(crate) async fn init_counters(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (name, start) in [
            (RESIDENT_COUNTER, 1i64),
            (
                REPLACEMENT_COUNTER,
                maina_core::authority::REPLACEMENT_NUMBER_BASE as i64,
            ),
            (OFFICER_COUNTER, 1),
            (APPLICATION_COUNTER, 1),
            (OUTBOX_COUNTER, 1),
            (CARD_NUMBER_COUNTER, 1),
            (SHIPMENT_COUNTER, 1),
            (ISSUE_NOTICE_COUNTER, 1),
        ] {
            Self::create_counter(&mut tx, name, start).await?;
        }
        tx.commit().await
    }

    /// Creates a counter at `start` unless it exists.
    pub(crate) async fn create_counter(tx: &mut Tx<'_>, name: &str, start: i64) -> Result<()> {
        tx.execute(
            "INSERT INTO counters (name, next_value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[name.into(), start.into()],
        )
        .await?;
        Ok(())
    }

    /// Hands out `count` sequential keys of a counter, in the caller's transaction.
    pub(crate) async fn take_keys(
        tx: &mut Tx<'_>,
        counter: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>> {
        let next = tx
            .fetch_one(
                "UPDATE counters SET next_value = next_value + $1 WHERE name = $2 RETURNING next_value",
                &[to_i64(count)?.into(), counter.into()],
            )
            .await?
            .int(0)?;
        let end = to_u64(next)?;
        Ok(end.saturating_sub(count)..end)
    }

    /// The next key of a counter, in the caller's transaction.
    pub(crate) async fn take_key(tx: &mut Tx<'_>, counter: &str) -> Result<u64> {
        Ok(Self::take_keys(tx, counter, 1).await?.start)
    }
}
