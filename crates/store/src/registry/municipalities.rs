//! The municipalities the registry knows: a registration or a move names one.

use super::Municipality;
use crate::backend::{Query, Tx};
use crate::{Result, Store};
use std::collections::HashSet;

impl Store {
    /// Adds a municipality, or renames it if it exists.
    pub async fn put_municipality(&self, municipality: &Municipality) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO municipalities (code, name_ja, name_en) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en",
            &[
                municipality.code.as_digits().into(),
                municipality.name_ja.as_str().into(),
                municipality.name_en.as_str().into(),
            ],
        )
        .await?;
        tx.commit().await
    }

    /// All municipalities, by code.
    pub async fn municipalities(&self) -> Result<Vec<Municipality>> {
        let rows = self
            .read_all(
                "SELECT code, name_ja, name_en FROM municipalities ORDER BY code",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| decode_row!(row => Municipality { code: parsed, name_ja: text, name_en: text }))
            .collect()
    }

    pub(super) async fn known_municipalities(
        tx: &mut Tx<'_>,
        codes: &HashSet<String>,
    ) -> Result<HashSet<String>> {
        let mut known = HashSet::new();
        for code in codes {
            let found = tx
                .fetch_optional(
                    "SELECT 1 FROM municipalities WHERE code = $1",
                    &[code.as_str().into()],
                )
                .await?;
            if found.is_some() {
                known.insert(code.clone());
            }
        }
        Ok(known)
    }
}
