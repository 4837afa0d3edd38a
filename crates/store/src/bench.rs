//! What only the benchmarks use, behind the `bench` feature: the ceilings (the same
//! rows written or read with none of the registry's work, to measure against) and
//! the raw helpers that feed them. The ceiling table is created here, at run time,
//! never by the schema.

use crate::backend::migrations::{migration_source, render};
use crate::backend::{now_micros, to_i64, Tx, Value};
use crate::registry::RESIDENT_TUPLE;
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::{ApplicationFormId, ReceiptNumber};

/// The numbering benchmark's ceiling table: the residents table under another
/// name, cut from the schema so that the two cannot drift apart.
fn ceiling_table(backend: crate::Backend) -> Result<String> {
    let columns = migration_source(1)
        .and_then(|registry| registry.split_once("CREATE TABLE residents ("))
        .and_then(|(_, rest)| rest.split_once(");"))
        .map(|(columns, _)| columns)
        .ok_or_else(|| StoreError::Corrupt("the schema has no residents table".into()))?;
    Ok(render(
        &format!("CREATE TABLE IF NOT EXISTS bench_ceiling ({columns})"),
        backend,
    ))
}

const CEILING_INSERT: &str =
    "INSERT INTO bench_ceiling (id, municipality, status, version, number_key, \
     registered_at, registered_by, updated_at, registration) VALUES";

impl Store {
    /// Creates the ceiling table unless it exists (the schema never has it).
    async fn create_ceiling(&self, tx: &mut Tx<'_>) -> Result<()> {
        tx.execute(&ceiling_table(self.backend())?, &[]).await?;
        Ok(())
    }

    /// The ceiling for the numbering benchmark: a bare batched insert of rows of the
    /// residents' shape, with one sequential unique key, through the same connection
    /// and the same insert path, with no validation, numbering or sealing.
    pub async fn bench_bare_insert(
        &self,
        start: u64,
        blobs: &[Vec<u8>],
        municipality: &str,
    ) -> Result<()> {
        let now = now_micros();
        let rows = blobs
            .iter()
            .zip(start..)
            .map(|(blob, id)| {
                Ok(vec![
                    to_i64(id)?.into(),
                    municipality.into(),
                    now.into(),
                    "bench".into(),
                    blob.clone().into(),
                ])
            })
            .collect::<Result<Vec<Vec<Value>>>>()?;
        let mut tx = self.pool.begin().await?;
        self.create_ceiling(&mut tx).await?;
        tx.insert_many(CEILING_INSERT, RESIDENT_TUPLE, &rows)
            .await?;
        tx.commit().await
    }

    /// Empties the benchmark's ceiling table (creating it if needed).
    pub async fn bench_reset(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.create_ceiling(&mut tx).await?;
        tx.execute("DELETE FROM bench_ceiling", &[]).await?;
        tx.commit().await
    }

    /// Benchmarks: the keys and checks of `count` synthetic applications (no I/O;
    /// callers spread it over threads). Returns the rows and their (form ID, birth).
    pub fn bench_application_rows(
        &self,
        first_id: u64,
        forms: &[(ApplicationFormId, ReceiptNumber)],
        birth: NaiveDate,
    ) -> Result<Vec<Vec<Value>>> {
        let now = now_micros();
        forms
            .iter()
            .zip(first_id..)
            .map(|((form, receipt), id)| {
                Ok(vec![
                    to_i64(id)?.into(),
                    self.blind_index.form_key(form).into(),
                    self.blind_index.receipt_key(receipt).into(),
                    self.blind_index.form_check(form, birth).into(),
                    self.blind_index.receipt_check(receipt, birth).into(),
                    0i64.into(),
                    "131016".into(),
                    "pc".into(),
                    "received".into(),
                    now.into(),
                    b"bench".to_vec().into(),
                ])
            })
            .collect()
    }

    /// Benchmarks: inserts rows made by [`Store::bench_application_rows`].
    pub async fn bench_insert_applications(&self, rows: &[Vec<Value>]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.insert_many(
            "INSERT INTO applications (id, form_key, receipt_key, form_check, receipt_check, resident_id, municipality, channel, status, status_since, created_at, version, details) VALUES",
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1, $11)",
            rows,
        )
        .await?;
        tx.commit().await
    }

    /// Benchmarks: the look-up key of a form ID (what the ceiling is given).
    pub fn bench_form_key(&self, form: &ApplicationFormId) -> i64 {
        self.blind_index.form_key(form)
    }
}

impl Store {
    /// Benchmarks: approved applications (sealed details, no photo) for the
    /// residents `(row key, name, birth date)`, ready for `maina bench manufacture`.
    pub async fn bench_approved_applications(
        &self,
        residents: &[(u64, String, NaiveDate)],
    ) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let ids = Self::take_keys(
            &mut tx,
            crate::counters::APPLICATION_COUNTER,
            residents.len() as u64,
        )
        .await?;
        let mut rows = Vec::with_capacity(residents.len());
        for ((key, name, birth), id) in residents.iter().zip(ids) {
            let receipt =
                ReceiptNumber::new(id).map_err(|e| StoreError::Illegal(format!("receipt: {e}")))?;
            let details = crate::ApplicationDetails {
                name: name.clone(),
                birth_date: *birth,
                email: None,
                language: "ja".into(),
                electronic_certificate: true,
                braille: false,
                receipt: receipt.as_digits(),
            };
            rows.push(vec![
                to_i64(id)?.into(),
                to_i64(id)?.into(),
                self.blind_index.receipt_key(&receipt).into(),
                Vec::<u8>::new().into(),
                self.blind_index.receipt_check(&receipt, *birth).into(),
                to_i64(*key)?.into(),
                "131016".into(),
                "mail".into(),
                "card-issuance-in-process".into(),
                now.into(),
                self.seal_record(&crate::applications::details_place(id), &details)?
                    .into(),
            ]);
        }
        for chunk in rows.chunks(1000) {
            tx.insert_many(
                "INSERT INTO applications (id, form_key, receipt_key, form_check, receipt_check, resident_id, municipality, channel, status, status_since, created_at, version, details) VALUES",
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1, $11)",
                chunk,
            )
            .await?;
        }
        tx.commit().await
    }
}

impl Store {
    /// Benchmarks: the raw point look-up the inquiry makes, and nothing else.
    pub async fn bench_lookup(&self, form_key: i64) -> Result<Option<(String, i64)>> {
        let row = self
            .read_optional(
                "SELECT status, status_since FROM applications WHERE form_key = $1",
                &[form_key.into()],
            )
            .await?;
        row.map(|row| Ok((row.text(0)?, row.int(1)?))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_has_the_residents_columns() {
        for backend in [crate::Backend::Sqlite, crate::Backend::Postgres] {
            let sql = ceiling_table(backend).unwrap();
            assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS bench_ceiling ("));
            assert!(sql.contains("registration") && sql.contains("current"));
            assert!(!sql.contains('{'));
        }
    }

    /// The ceiling's table appears when a benchmark needs it and takes the
    /// residents' rows: on SQLite, and on PostgreSQL when MAINA_TEST_POSTGRES_URL
    /// names a server (a fresh database is made for the test).
    #[tokio::test]
    async fn the_ceiling_table_is_made_at_run_time() {
        use sqlx::Connection;
        let dir = tempfile::tempdir().unwrap();
        let mut urls = vec![crate::sqlite_url(&dir.path().join("bench.sqlite3"))];
        if let Ok(base) = std::env::var("MAINA_TEST_POSTGRES_URL") {
            let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
            for sql in [
                "DROP DATABASE IF EXISTS maina_test_bench_ceiling",
                "CREATE DATABASE maina_test_bench_ceiling",
            ] {
                sqlx::query(sql).execute(&mut admin).await.unwrap();
            }
            let (prefix, _) = base.rsplit_once('/').unwrap();
            urls.push(format!("{prefix}/maina_test_bench_ceiling"));
        }
        for url in urls {
            let store = Store::open(&url, &crate::Keys::from_bytes([1u8; 32]))
                .await
                .unwrap();
            store.bench_reset().await.unwrap();
            store
                .bench_bare_insert(1, &[vec![1, 2, 3], vec![4, 5]], "131016")
                .await
                .unwrap();
            let count = store
                .read_one("SELECT COUNT(*) FROM bench_ceiling", &[])
                .await
                .unwrap();
            assert_eq!(count.int(0).unwrap(), 2, "{url}");
            store.bench_reset().await.unwrap();
            store.close().await;
        }
    }
}
