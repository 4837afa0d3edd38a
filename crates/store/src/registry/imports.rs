//! Bulk-import checkpoints: each batch commits its progress with its rows, so a run
//! killed at any point resumes where its last commit ended.

use super::Rejection;
use crate::backend::{now_micros, to_i64, to_u64, Tx};
use crate::{Result, Store};

/// Where a bulk import stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportState {
    pub next_line: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub finished: bool,
}

/// The progress an import batch commits together with its rows, so that a run
/// killed at any point resumes exactly where its last commit ended.
#[derive(Debug, Clone)]
pub struct ImportProgress {
    pub file_hash: String,
    pub file_name: String,
    /// The first line not yet processed once this batch commits.
    pub next_line: u64,
    /// Rows of this batch refused before reaching the database.
    pub rejections: Vec<Rejection>,
}

impl Store {
    /// Where the import of the file with this hash stands, if it was started.
    pub async fn import_state(&self, file_hash: &str) -> Result<Option<ImportState>> {
        let row = self.read_optional(
                "SELECT next_line, accepted, rejected, finished_at FROM imports WHERE file_hash = $1",
                &[file_hash.into()],
            )
            .await?;
        row.map(|row| {
            Ok(ImportState {
                next_line: row.key(0)?,
                accepted: to_u64(row.int(1)?)?,
                rejected: to_u64(row.int(2)?)?,
                finished: row.opt_int(3)?.is_some(),
            })
        })
        .transpose()
    }

    pub(super) async fn record_progress(
        tx: &mut Tx<'_>,
        progress: &ImportProgress,
        accepted: u64,
        rejections: &[Rejection],
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO imports (file_hash, file_name, started_at, next_line, accepted, rejected) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (file_hash) DO UPDATE SET next_line = excluded.next_line, \
             accepted = imports.accepted + excluded.accepted, rejected = imports.rejected + excluded.rejected",
            &[
                progress.file_hash.as_str().into(),
                progress.file_name.as_str().into(),
                now_micros().into(),
                to_i64(progress.next_line)?.into(),
                to_i64(accepted)?.into(),
                to_i64(rejections.len() as u64)?.into(),
            ],
        )
        .await?;
        for rejection in rejections {
            tx.execute(
                "INSERT INTO import_rejections (file_hash, line, field, reason) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (file_hash, line) DO NOTHING",
                &[
                    progress.file_hash.as_str().into(),
                    to_i64(rejection.line)?.into(),
                    rejection.field.as_str().into(),
                    rejection.reason.as_str().into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Marks an import finished.
    pub async fn finish_import(&self, file_hash: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE imports SET finished_at = $1 WHERE file_hash = $2",
            &[now_micros().into(), file_hash.into()],
        )
        .await?;
        tx.commit().await
    }

    /// Every rejected row of an import, by line.
    pub async fn import_rejections(&self, file_hash: &str) -> Result<Vec<Rejection>> {
        let rows = self.read_all(
                "SELECT line, field, reason FROM import_rejections WHERE file_hash = $1 ORDER BY line",
                &[file_hash.into()],
            )
            .await?;
        rows.iter()
            .map(|row| decode_row!(row => Rejection { line: key, field: text, reason: text }))
            .collect()
    }
}
