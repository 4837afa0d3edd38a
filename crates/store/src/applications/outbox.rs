//! The durable e-mail outbox: a mail is queued in the transaction of the change it
//! tells of, sealed, and sent (with retries) by the server's mailer.

use super::{outbox_place, Attachment, Mail, OutboxMail};
use crate::backend::{now_micros, to_i64, Tx};
use crate::counters::OUTBOX_COUNTER;
use crate::{Result, Store};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// An outbox message as sealed: the mail, then, only when there is one, its
/// attachment. A message without one is sealed exactly as before attachments
/// existed, and a message sealed before them reads as one without (the sealed
/// encoding, postcard, is not self-describing: a missing trailing value shows as
/// the end of the input, which is read as "no attachment").
struct StoredMail(Mail, Option<Attachment>);

impl<'de> Deserialize<'de> for StoredMail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = StoredMail;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mail and an optional attachment")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StoredMail, A::Error> {
                let mail = seq
                    .next_element::<Mail>()?
                    .ok_or_else(|| serde::de::Error::invalid_length(0, &self))?;
                let attachment = seq.next_element::<Attachment>().ok().flatten();
                Ok(StoredMail(mail, attachment))
            }
        }
        deserializer.deserialize_tuple(2, Fields)
    }
}

impl Store {
    pub(crate) async fn enqueue_mail_in(
        &self,
        tx: &mut Tx<'_>,
        mail: &Mail,
        now: i64,
    ) -> Result<()> {
        self.enqueue_mail_with_in(tx, mail, None, now).await
    }

    /// Queues an e-mail with an optional attachment, in the caller's transaction.
    pub(crate) async fn enqueue_mail_with_in(
        &self,
        tx: &mut Tx<'_>,
        mail: &Mail,
        attachment: Option<&Attachment>,
        now: i64,
    ) -> Result<()> {
        let id = Self::take_key(tx, OUTBOX_COUNTER).await?;
        let place = outbox_place(id);
        let sealed = match attachment {
            None => self.seal_record(&place, mail)?,
            Some(attachment) => self.seal_record(&place, &(mail, attachment))?,
        };
        tx.execute(
            "INSERT INTO outbox (id, created_at, next_attempt_at, attempts, message) VALUES ($1, $2, $2, 0, $3)",
            &[to_i64(id)?.into(), now.into(), sealed.into()],
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
                let StoredMail(mail, attachment) =
                    self.open_record(&outbox_place(id), &row.bytes(2)?)?;
                Ok(OutboxMail {
                    id,
                    attempts: u32::try_from(row.int(1)?).unwrap_or(u32::MAX),
                    mail,
                    attachment,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            to: "taro@example.jp".into(),
            subject: "s".into(),
            body: "b".into(),
        }
    }

    #[test]
    fn messages_sealed_before_attachments_read_as_without_one() {
        let old = postcard::to_stdvec(&mail()).unwrap();
        let StoredMail(read, attachment) = postcard::from_bytes(&old).unwrap();
        assert_eq!((read, attachment), (mail(), None));
        let file = Attachment {
            filename: "a.ics".into(),
            content_type: "text/calendar".into(),
            content: b"BEGIN:VCALENDAR".to_vec(),
        };
        let new = postcard::to_stdvec(&(&mail(), &file)).unwrap();
        let StoredMail(read, attachment) = postcard::from_bytes(&new).unwrap();
        assert_eq!((read, attachment), (mail(), Some(file)));
        // An older reader still reads the mail of a message with an attachment.
        assert_eq!(postcard::from_bytes::<Mail>(&new).unwrap(), mail());
    }
}
