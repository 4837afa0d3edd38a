//! The schema: one set of migration files for both databases, written with a few
//! tokens this module renders per database, and the runner that applies each
//! migration once.
//!
//! | token | SQLite | PostgreSQL |
//! | --- | --- | --- |
//! | `{int}` | `INTEGER` (an `INTEGER PRIMARY KEY` is the rowid) | `BIGINT` |
//! | `{bytes}` | `BLOB` | `BYTEA` |
//! | `{without_rowid}` | ` WITHOUT ROWID` (the table is its primary key) | nothing |
//!
//! The SQLite spellings are the ones that keep it fast: a rowid table is stored in
//! key order, and a WITHOUT ROWID index table does not store every row twice.

use super::{Backend, Pool, Query};
use crate::Result;

/// The schema, in order; each entry is applied once, in one transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_registry.sql")),
    (2, include_str!("../../migrations/0002_officers_audit.sql")),
    (3, include_str!("../../migrations/0003_search.sql")),
    (4, include_str!("../../migrations/0004_cards.sql")),
    (5, include_str!("../../migrations/0005_applications.sql")),
    (6, include_str!("../../migrations/0006_pki.sql")),
    (7, include_str!("../../migrations/0007_throttles.sql")),
    (8, include_str!("../../migrations/0008_manufacture.sql")),
    (9, include_str!("../../migrations/0009_issue_notices.sql")),
    (
        10,
        include_str!("../../migrations/0010_offices_appointments.sql"),
    ),
    (11, include_str!("../../migrations/0011_pickup_counter.sql")),
    (12, include_str!("../../migrations/0012_card_life.sql")),
    (13, include_str!("../../migrations/0013_suspension.sql")),
    (14, include_str!("../../migrations/0014_chip_service.sql")),
    (
        15,
        include_str!("../../migrations/0015_card_moves_notes.sql"),
    ),
    (16, include_str!("../../migrations/0016_renewal.sql")),
    (17, include_str!("../../migrations/0017_crl_documents.sql")),
    (18, include_str!("../../migrations/0018_oidc.sql")),
    (19, include_str!("../../migrations/0019_portal.sql")),
    (20, include_str!("../../migrations/0020_oidc_hardening.sql")),
    (
        21,
        include_str!("../../migrations/0021_signature_verifiers.sql"),
    ),
];

/// The source of migration `version`, tokens unrendered.
#[cfg(feature = "bench")]
pub(crate) fn migration_source(version: i64) -> Option<&'static str> {
    MIGRATIONS
        .iter()
        .find(|(number, _)| *number == version)
        .map(|(_, script)| *script)
}

/// Each token and its SQLite and PostgreSQL spellings.
const TOKENS: [(&str, &str, &str); 3] = [
    ("{int}", "INTEGER", "BIGINT"),
    ("{bytes}", "BLOB", "BYTEA"),
    ("{without_rowid}", " WITHOUT ROWID", ""),
];

/// `sql` with its tokens spelled for `backend`.
pub(crate) fn render(sql: &str, backend: Backend) -> String {
    TOKENS
        .iter()
        .fold(sql.to_string(), |sql, (token, sqlite, postgres)| {
            let spelling = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            sql.replace(token, spelling)
        })
}

impl Pool {
    /// Applies every migration the database has not had yet.
    pub(crate) async fn migrate(&self) -> Result<()> {
        let backend = self.backend();
        self.run_script(&render(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version {int} PRIMARY KEY)",
            backend,
        ))
        .await?;
        for &(version, script) in MIGRATIONS {
            let applied = self
                .reader()
                .await
                .exists(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[version.into()],
                )
                .await?;
            if applied {
                continue;
            }
            let script = render(script, backend);
            self.run_script(&format!(
                "{script}\nINSERT INTO schema_migrations (version) VALUES ({version})"
            ))
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_renders_for_both_databases() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for &(version, script) in MIGRATIONS {
                let sql = render(script, backend);
                assert!(
                    !sql.contains('{') && !sql.contains('}'),
                    "migration {version} keeps a token on {}",
                    backend.name()
                );
                assert!(
                    sql.contains("CREATE TABLE") || sql.contains("ALTER TABLE"),
                    "migration {version}"
                );
            }
        }
        let search = render(MIGRATIONS[2].1, Backend::Sqlite);
        assert!(search.contains(") WITHOUT ROWID;"));
        let registry = render(MIGRATIONS[0].1, Backend::Sqlite);
        assert!(registry.contains("id INTEGER PRIMARY KEY"));
        assert!(registry.contains("registration BLOB NOT NULL"));
        let registry = render(MIGRATIONS[0].1, Backend::Postgres);
        assert!(registry.contains("id BIGINT PRIMARY KEY"));
        assert!(registry.contains("registration BYTEA NOT NULL"));
        assert!(!render(MIGRATIONS[2].1, Backend::Postgres).contains("ROWID"));
    }

    #[test]
    fn the_benchmark_table_is_not_in_the_schema() {
        for (_, script) in MIGRATIONS {
            assert!(!script.contains("bench"));
        }
    }
}
