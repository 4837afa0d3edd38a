//! The blind search index: residents by municipality and birth date (a keyed hash),
//! then by name after the records are opened.

use super::ResidentView;
use crate::backend::Tx;
use crate::{Result, Store};
use chrono::NaiveDate;
use maina_core::MunicipalityCode;

impl Store {
    /// Merges the pending search-index entries into the index, in key order. Bulk
    /// jobs call it when they finish and the server every half minute; searches read
    /// the pending entries too, so a merge changes speed, never answers.
    pub async fn merge_search_index(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::merge_search_index_in(&mut tx).await?;
        tx.commit().await
    }

    pub(super) async fn merge_search_index_in(tx: &mut Tx<'_>) -> Result<()> {
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
            .read_all(
                "SELECT resident_id FROM birth_index WHERE key = $1 \
                 UNION SELECT resident_id FROM birth_index_pending WHERE key = $2 ORDER BY 1",
                &[
                    self.blind_index.birth_key(municipality, birth_date).into(),
                    self.blind_index.birth_key(municipality, birth_date).into(),
                ],
            )
            .await?;
        let mut found = Vec::new();
        for row in keys {
            let view = self.resident(row.key(0)?).await?;
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
}
