//! The hash-chained audit trail: every change and every read of personal data
//! appends an event whose hash covers the previous event's, so editing, removing
//! or reordering events is seen by [`Store::verify_audit`].

use crate::backend::{now_micros, to_i64, Pool, Query, Row, Tx};
use crate::{Result, Store, StoreError};
use maina_core::officer::{Actor, AuditEvent, GENESIS_HASH};
use serde::Serialize;

/// An audit event waiting for the next group commit.
#[derive(Debug)]
pub(crate) struct QueuedAudit {
    actor: Actor,
    action: String,
    resident: Option<u64>,
    done: tokio::sync::oneshot::Sender<std::result::Result<(), String>>,
}

/// Largest group commit.
const AUDIT_BATCH: usize = 512;
/// Scheduler yields before a batch is taken.
const AUDIT_GATHER_YIELDS: usize = 4;

/// The audit writer: waits for an event, takes every other queued event too, and
/// commits them in one transaction. Ends when the last `Store` is dropped.
pub(crate) async fn audit_writer(
    pool: Pool,
    mut events: tokio::sync::mpsc::Receiver<QueuedAudit>,
    key: std::sync::Arc<zeroize::Zeroizing<[u8; 32]>>,
) {
    while let Some(first) = events.recv().await {
        let mut batch = vec![first];
        // Let the requests already running reach their audit call first: a few
        // yields turn a stream of one-event commits into batches.
        for _ in 0..AUDIT_GATHER_YIELDS {
            tokio::task::yield_now().await;
        }
        while batch.len() < AUDIT_BATCH {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let result = async {
            let mut tx = pool.begin().await?;
            let events: Vec<(&Actor, &str, Option<u64>)> = batch
                .iter()
                .map(|e| (&e.actor, e.action.as_str(), e.resident))
                .collect();
            Store::audit_batch_in(&mut tx, &key, &events).await?;
            tx.commit().await
        }
        .await
        .map_err(|e| e.to_string());
        for event in batch {
            let _ = event.done.send(result.clone());
        }
    }
}

/// The result of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub events: u64,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

/// The columns of an audit event, in [`audit_event`]'s order.
pub(crate) const AUDIT_COLUMNS: &str =
    "seq, at, officer, role, municipality, action, resident_id, purpose";

pub(crate) fn audit_event(row: &Row) -> Result<AuditEvent> {
    decode_row!(row => AuditEvent {
        seq: key, at: int, officer: text, role: text, municipality: text, action: text,
        resident: opt_key, purpose: text,
    })
}

impl Store {
    /// Appends events to the audit trail in the caller's transaction, so that a
    /// change and its audit event commit together or not at all.
    pub(crate) async fn audit_in(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        action: &str,
        resident: Option<u64>,
    ) -> Result<()> {
        Self::audit_batch_in(tx, &self.audit_key, &[(actor, action, resident)]).await
    }

    /// Appends several events: the head is read and written once, the links are
    /// computed in memory, the rows go in with one insert path.
    pub(crate) async fn audit_batch_in(
        tx: &mut Tx<'_>,
        key: &[u8; 32],
        events: &[(&Actor, &str, Option<u64>)],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Locks the chain head (a row lock on PostgreSQL; SQLite has one writer).
        let head = tx
            .fetch_optional(
                "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
                &[],
            )
            .await?;
        let (mut seq, mut previous) = match head {
            Some(row) => {
                let hash: [u8; 32] = row
                    .bytes(1)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("audit head hash".into()))?;
                (row.key(0)?, hash)
            }
            None => {
                tx.execute(
                    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1)",
                    &[GENESIS_HASH.to_vec().into()],
                )
                .await?;
                (0, GENESIS_HASH)
            }
        };
        let at = now_micros();
        let mut rows = Vec::with_capacity(events.len());
        for (actor, action, resident) in events {
            seq += 1;
            let event = AuditEvent {
                seq,
                at,
                officer: actor.officer.clone(),
                role: actor.role.as_str().to_string(),
                municipality: actor
                    .municipality
                    .map(|m| m.as_digits())
                    .unwrap_or_default(),
                action: action.to_string(),
                resident: *resident,
                purpose: actor.purpose.clone(),
            };
            let hash = event.chain_hash(&previous, key);
            rows.push(vec![
                to_i64(event.seq)?.into(),
                event.at.into(),
                event.officer.into(),
                event.role.into(),
                event.municipality.into(),
                event.action.into(),
                event.resident.map(to_i64).transpose()?.into(),
                event.purpose.into(),
                previous.to_vec().into(),
                hash.to_vec().into(),
            ]);
            previous = hash;
        }
        tx.insert_many(
            "INSERT INTO audit_events (seq, at, officer, role, municipality, action, resident_id, purpose, prev_hash, hash) VALUES",
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &rows,
        )
        .await?;
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[to_i64(seq)?.into(), previous.to_vec().into()],
        )
        .await?;
        Ok(())
    }

    /// Records a read of personal information (or any other audited action), and
    /// returns once it is committed.
    ///
    /// Group commit: events go to one writer task, which appends everything queued
    /// in one transaction and then answers every caller. A read is never answered
    /// before its audit event is durable, and a busy server pays one commit per
    /// batch instead of one per read.
    pub async fn audit(&self, actor: &Actor, action: &str, resident: Option<u64>) -> Result<()> {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let event = QueuedAudit {
            actor: actor.clone(),
            action: action.to_string(),
            resident,
            done: done_tx,
        };
        if self.audit_sender.send(event).await.is_err() {
            return Err(StoreError::Audit("the audit writer has stopped".into()));
        }
        match done_rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StoreError::Audit(error)),
            Err(_) => Err(StoreError::Audit("the audit batch was dropped".into())),
        }
    }

    /// The audit events about one resident (or all, with `None`), oldest first.
    pub async fn audit_events(&self, resident: Option<u64>) -> Result<Vec<AuditEvent>> {
        let rows = match resident {
            Some(resident) => {
                self.read_all(
                    &format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE resident_id = $1 ORDER BY seq"),
                    &[to_i64(resident)?.into()],
                )
                .await?
            }
            None => {
                self.read_all(&format!("SELECT {AUDIT_COLUMNS} FROM audit_events ORDER BY seq"), &[])
                    .await?
            }
        };
        rows.iter().map(audit_event).collect()
    }

    /// The head of the chain: the last event's sequence number and hash (0 and the
    /// genesis hash for an empty trail). What an audit checkpoint signs.
    pub async fn audit_head(&self) -> Result<(u64, [u8; 32])> {
        let head = self
            .read_optional("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
            .await?;
        match head {
            Some(row) => {
                let hash = row
                    .bytes(1)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("audit head hash".into()))?;
                Ok((row.key(0)?, hash))
            }
            None => Ok((0, GENESIS_HASH)),
        }
    }

    /// The chain hash of event `seq` (the genesis hash for 0), if the trail has it.
    pub async fn audit_hash_at(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        if seq == 0 {
            return Ok(Some(GENESIS_HASH.to_vec()));
        }
        let row = self
            .read_optional(
                "SELECT hash FROM audit_events WHERE seq = $1",
                &[to_i64(seq)?.into()],
            )
            .await?;
        row.map(|row| row.bytes(0)).transpose()
    }

    /// Walks the whole chain: every event must follow the one before it, carry the
    /// previous link and hash to its own link, and the last must be the head.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let rows = self
            .read_all(
                &format!("SELECT {AUDIT_COLUMNS}, prev_hash, hash FROM audit_events ORDER BY seq"),
                &[],
            )
            .await?;
        let mut previous = GENESIS_HASH;
        let mut count = 0u64;
        let report = |count, problem: String| {
            Ok(AuditReport {
                events: count,
                problem: Some(problem),
            })
        };
        for (expected_seq, row) in (1u64..).zip(rows.iter()) {
            let event = audit_event(row)?;
            if event.seq != expected_seq {
                return report(
                    count,
                    format!("event {expected_seq} is missing (next is {})", event.seq),
                );
            }
            if row.bytes(8)? != previous {
                return report(
                    count,
                    format!(
                        "event {} does not follow event {} (removed or reordered)",
                        event.seq,
                        event.seq - 1
                    ),
                );
            }
            let hash = event.chain_hash(&previous, &self.audit_key);
            if row.bytes(9)? != hash {
                return report(count, format!("event {} was altered", event.seq));
            }
            previous = hash;
            count = expected_seq;
        }
        let head = self
            .read_optional("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
            .await?;
        match head {
            Some(head) if head.key(0)? != count || head.bytes(1)? != previous => {
                report(count, format!("the trail ends at event {count} but its head says {}: events were removed at the end", head.int(0)?))
            }
            None if count > 0 => report(count, "the trail has no head".into()),
            _ => Ok(AuditReport { events: count, problem: None }),
        }
    }
}
