//! One-time links of the online channel: stored by the SHA-256 of their token, with
//! the form and the applicant's name and e-mail sealed. A link is spent in the
//! transaction that records its application (`Store::submit_application_with`).

use super::{apply_link_place, ApplyLink, Mail};
use crate::backend::now_micros;
use crate::{Result, Store};

impl Store {
    /// Stores a one-time link (by the SHA-256 of its token) for a form, valid until
    /// `expires_at`, and queues the e-mail that carries it, in one transaction.
    pub async fn create_apply_link(
        &self,
        token_hash: &[u8; 32],
        link: &ApplyLink,
        expires_at: i64,
        mail: &Mail,
    ) -> Result<()> {
        let now = now_micros();
        let sealed = self.seal_record(&apply_link_place(token_hash), link)?;
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO apply_links (token_hash, form_key, created_at, expires_at, details) VALUES ($1, $2, $3, $4, $5)",
            &[token_hash.to_vec().into(), self.blind_index.form_key(&link.form_id).into(), now.into(), expires_at.into(), sealed.into()],
        )
        .await?;
        self.enqueue_mail_in(&mut tx, mail, now).await?;
        tx.commit().await
    }

    /// The link behind a token, if it exists, is unused and has not expired.
    pub async fn apply_link(&self, token_hash: &[u8; 32]) -> Result<Option<ApplyLink>> {
        let row = self.read_optional(
                "SELECT details FROM apply_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                &[token_hash.to_vec().into(), now_micros().into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        self.open_record(&apply_link_place(token_hash), &row.bytes(0)?)
            .map(Some)
    }
}
