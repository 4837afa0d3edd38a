//! Shared throttles: attempts counted per (scope, subject, fixed window) in the
//! `throttles` table, with one atomic upsert-increment per rule, *before* the
//! caller answers. Every server process over the same database shares the counts
//! (SQLite and PostgreSQL alike), and a burst of parallel attempts cannot all pass
//! before the first is counted: each gets its own count back.
//!
//! Subjects (a looked-up number, a client address) are stored only as a 64-bit
//! keyed hash. Expired windows are pruned now and then, through an index on their
//! expiry, so the table holds only the live windows.

use crate::backend::{now_micros, Query};
use crate::{Result, Store};
use rand::Rng;

/// One limit: at most `limit` attempts per `window_seconds` for `subject` in
/// `scope` (e.g. `inquiry-number`, the number looked up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRule {
    pub scope: &'static str,
    pub subject: String,
    pub window_seconds: i64,
    pub limit: u32,
}

/// What counting an attempt decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleVerdict {
    /// Within every limit; hand the ticket back to [`Store::throttle_refund`] to
    /// take the attempt back (a success need not count against anyone).
    Allowed(ThrottleTicket),
    /// Over a limit: wait this many seconds (until that window ends).
    Refused { retry_after_seconds: i64 },
}

/// The windows an allowed attempt was counted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleTicket {
    counted: Vec<(&'static str, i64, i64)>,
}

/// About one hit in this many prunes the expired windows.
const PRUNE_ONE_IN: u32 = 64;

const MICROS: i64 = 1_000_000;

impl Store {
    fn throttle_subject(&self, scope: &str, subject: &str) -> i64 {
        self.blind_index
            .short(&format!("throttle|{scope}|{subject}"))
    }

    /// Counts one attempt against every rule, in one transaction, and says whether
    /// it is within all of them. The count is taken whatever the verdict, so a
    /// caller that keeps trying while refused stays refused.
    pub async fn throttle_hit(&self, rules: &[ThrottleRule]) -> Result<ThrottleVerdict> {
        let now = now_micros();
        // One order for every caller, so that two transactions never wait on each
        // other's rows crosswise (PostgreSQL).
        let mut keyed: Vec<(&ThrottleRule, i64, i64)> = rules
            .iter()
            .map(|rule| {
                let window = rule.window_seconds.max(1) * MICROS;
                let start = now - now.rem_euclid(window);
                (
                    rule,
                    self.throttle_subject(rule.scope, &rule.subject),
                    start,
                )
            })
            .collect();
        keyed.sort_by_key(|(rule, subject, _)| (rule.scope, *subject));
        let prune = rand::thread_rng().gen_ratio(1, PRUNE_ONE_IN);
        let mut tx = self.pool.begin().await?;
        tx.commit_without_waiting_for_disk().await?;
        let mut refused_until = None::<i64>;
        let mut counted = Vec::with_capacity(keyed.len());
        for (rule, subject, start) in keyed {
            let window = rule.window_seconds.max(1) * MICROS;
            let hits = tx
                .fetch_one(
                    "INSERT INTO throttles (scope, subject, window_start, hits, expires_at) VALUES ($1, $2, $3, 1, $4) \
                     ON CONFLICT (scope, subject, window_start) DO UPDATE SET hits = throttles.hits + 1 \
                     RETURNING hits",
                    &[rule.scope.into(), subject.into(), start.into(), (start + window).into()],
                )
                .await?
                .int(0)?;
            if hits > i64::from(rule.limit) {
                let end = start + window;
                refused_until = Some(refused_until.map_or(end, |until| until.max(end)));
            }
            counted.push((rule.scope, subject, start));
        }
        if prune {
            tx.execute(
                "DELETE FROM throttles WHERE expires_at <= $1",
                &[now.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(match refused_until {
            Some(until) => ThrottleVerdict::Refused {
                retry_after_seconds: ((until - now) / MICROS).max(1),
            },
            None => ThrottleVerdict::Allowed(ThrottleTicket { counted }),
        })
    }

    /// Takes an allowed attempt back (a successful log-in or inquiry).
    pub async fn throttle_refund(&self, ticket: &ThrottleTicket) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.commit_without_waiting_for_disk().await?;
        // Row by row, in the ticket's (sorted) order, the order `throttle_hit` locks
        // them in: one `UPDATE ... WHERE ... OR ...` would lock in its scan's order
        // and deadlock against the hits on PostgreSQL (measured: 18 requests/s).
        for (scope, subject, start) in &ticket.counted {
            tx.execute(
                "UPDATE throttles SET hits = hits - 1 WHERE scope = $1 AND subject = $2 AND window_start = $3 AND hits > 0",
                &[(*scope).into(), (*subject).into(), (*start).into()],
            )
            .await?;
        }
        tx.commit().await
    }

    /// Deletes every expired window; returns how many went.
    pub async fn prune_throttles(&self) -> Result<u64> {
        self.write_one(
            "DELETE FROM throttles WHERE expires_at <= $1",
            &[now_micros().into()],
        )
        .await
    }

    /// How many rows the throttle table holds (live and not yet pruned windows).
    pub async fn throttle_rows(&self) -> Result<u64> {
        let count = self
            .read_one("SELECT COUNT(*) FROM throttles", &[])
            .await?
            .int(0)?;
        crate::backend::to_u64(count)
    }
}
