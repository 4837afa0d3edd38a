//! The resident portal's sessions (issue 14): made after a sign-in through the
//! provider, kept by the SHA-256 of their cookie, ended by log-out or after an
//! idle time.

use crate::backend::{now_micros, to_i64};
use crate::{Result, Store};

/// A live resident session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentSessionRecord {
    pub resident_key: u64,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
    pub last_seen: i64,
}

/// A session's last-seen time is written at most this often (microseconds): a
/// page view is a read, not a write, most of the time.
const TOUCH_EVERY: i64 = 30_000_000;

impl Store {
    /// Opens a resident session (one insert).
    pub async fn open_resident_session(&self, id_hash: &[u8; 32], resident_key: u64) -> Result<()> {
        let now = now_micros();
        self.write_one(
            "INSERT INTO resident_sessions (id_hash, resident_key, created_at, last_seen) \
             VALUES ($1, $2, $3, $3)",
            &[
                id_hash.to_vec().into(),
                to_i64(resident_key)?.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The live session with this cookie hash: not ended, seen within `idle`
    /// (microseconds). Its last-seen time moves on (written at most every 30 s).
    pub async fn resident_session(
        &self,
        id_hash: &[u8; 32],
        idle: i64,
    ) -> Result<Option<ResidentSessionRecord>> {
        let now = now_micros();
        let row = self
            .read_optional(
                "SELECT resident_key, created_at, last_seen FROM resident_sessions \
                 WHERE id_hash = $1 AND ended_at IS NULL AND last_seen > $2",
                &[id_hash.to_vec().into(), (now - idle).into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut session = ResidentSessionRecord {
            resident_key: row.key(0)?,
            created_at: row.int(1)?,
            last_seen: row.int(2)?,
        };
        if now - session.last_seen > TOUCH_EVERY {
            self.write_one(
                "UPDATE resident_sessions SET last_seen = $1 WHERE id_hash = $2 AND ended_at IS NULL",
                &[now.into(), id_hash.to_vec().into()],
            )
            .await?;
            session.last_seen = now;
        }
        Ok(Some(session))
    }

    /// Ends a resident session (log-out). `false`: none was open.
    pub async fn end_resident_session(&self, id_hash: &[u8; 32]) -> Result<bool> {
        let changed = self
            .write_one(
                "UPDATE resident_sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
                &[now_micros().into(), id_hash.to_vec().into()],
            )
            .await?;
        Ok(changed == 1)
    }
}
