//! The durable e-mail outbox: a mail is queued in the transaction of the change it
//! tells of, sealed, and sent (with retries) by the server's mailer.

use super::{outbox_place, Mail, OutboxMail};
use crate::backend::{now_micros, to_i64, Tx};
use crate::counters::OUTBOX_COUNTER;
use crate::{Result, Store};

impl Store {
    pub(crate) async fn enqueue_mail_in(
        &self,
        tx: &mut Tx<'_>,
        mail: &Mail,
        now: i64,
    ) -> Result<()> {
        let id = Self::take_key(tx, OUTBOX_COUNTER).await?;
        tx.execute(
            "INSERT INTO outbox (id, created_at, next_attempt_at, attempts, message) VALUES ($1, $2, $2, 0, $3)",
            &[to_i64(id)?.into(), now.into(), self.seal_record(&outbox_place(id), mail)?.into()],
        )
        .await?;
        Ok(())
    }

    /// Queues an e-mail on its own.
    pub async fn enqueue_mail(&self, mail: &Mail) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.enqueue_mail_in(&mut tx, mail, now_micros()).await?;
        tx.commit().await
    }

    /// E-mails due now, oldest first.
    pub async fn due_mail(&self, limit: u32) -> Result<Vec<OutboxMail>> {
        let rows = self.read_all(
                "SELECT id, attempts, message FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
                &[now_micros().into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let id = row.key(0)?;
                Ok(OutboxMail {
                    id,
                    attempts: u32::try_from(row.int(1)?).unwrap_or(u32::MAX),
                    mail: self.open_record(&outbox_place(id), &row.bytes(2)?)?,
                })
            })
            .collect()
    }

    /// Marks an e-mail sent.
    pub async fn mail_sent(&self, id: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE outbox SET sent_at = $1 WHERE id = $2",
            &[now_micros().into(), to_i64(id)?.into()],
        )
        .await?;
        tx.commit().await
    }

    /// Records a failed attempt; the next one is due at `retry_at` (microseconds).
    pub async fn mail_failed(&self, id: u64, error: &str, retry_at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            &[error.into(), retry_at.into(), to_i64(id)?.into()],
        )
        .await?;
        tx.commit().await
    }

    /// How many e-mails wait (not sent yet).
    pub async fn pending_mail(&self) -> Result<u64> {
        let row = self
            .read_one("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", &[])
            .await?;
        row.key(0)
    }
}
