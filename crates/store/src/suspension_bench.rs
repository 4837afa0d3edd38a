//! The revocation benchmark's seed, behind the `bench` feature: a million revoked
//! certificates written in a few seconds (bare batched inserts of one placeholder
//! card's certificates, their DER never opened), so the base CRL lists that many.

use crate::backend::{now_micros, Value};
use crate::{Result, Store};

/// Rows per transaction.
const SEED_BATCH: u64 = 50_000;

impl Store {
    /// Benchmarks: `count` revoked certificates of authority `ca` (serials
    /// `first_serial..`, 8 bytes, upper-case hexadecimal), revoked a day ago
    /// (lost-card), valid for years, on one placeholder card; the CRLs marked stale.
    pub async fn bench_seed_revoked(&self, ca: &str, first_serial: u64, count: u64) -> Result<()> {
        let now = now_micros();
        let card_id = format!(
            "{:016X}",
            0xBE00_0000_0000_0000u64 | (first_serial & 0xFFFF_FFFF)
        );
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO cards (id, resident_id, status, created_at, updated_at, chip) VALUES ($1, NULL, 'revoked', $2, $2, $3)",
            &[card_id.as_str().into(), now.into(), b"bench".to_vec().into()],
        )
        .await?;
        tx.commit().await?;
        let revoked_at = now - 86_400_000_000;
        let mut next = first_serial;
        let end = first_serial.saturating_add(count);
        while next < end {
            let upto = end.min(next + SEED_BATCH);
            let rows: Vec<Vec<Value>> = (next..upto)
                .map(|serial| {
                    vec![
                        format!("{serial:016X}").into(),
                        ca.into(),
                        card_id.as_str().into(),
                        revoked_at.into(),
                        vec![0u8].into(),
                    ]
                })
                .collect();
            let mut tx = self.pool.begin().await?;
            tx.insert_many(
                "INSERT INTO certificates (serial, ca, card_id, not_before, not_after, der, revoked_at, reason) VALUES",
                "($1, $2, $3, 1700000000, 4000000000, $5, $4, 'lost-card')",
                &rows,
            )
            .await?;
            tx.commit().await?;
            next = upto;
        }
        let mut tx = self.pool.begin().await?;
        Self::crls_stale(&mut tx, &[ca]).await?;
        tx.commit().await
    }
}

impl Store {
    /// Benchmarks: `count` active cards with no holder, each with a good
    /// authentication and signature certificate (serials `first_serial..`, DER a
    /// placeholder never opened) — the sign-in benchmark's national-size tables.
    pub async fn bench_seed_cards(&self, first_serial: u64, count: u64) -> Result<()> {
        let now = now_micros();
        let mut next = first_serial;
        let end = first_serial.saturating_add(count);
        while next < end {
            let upto = end.min(next + SEED_BATCH / 2);
            let cards: Vec<Vec<Value>> = (next..upto)
                .map(|serial| {
                    vec![
                        format!("{:016X}", serial | 0xC000_0000_0000_0000).into(),
                        now.into(),
                        b"bench".to_vec().into(),
                    ]
                })
                .collect();
            let certificates: Vec<Vec<Value>> = (next..upto)
                .flat_map(|serial| {
                    let card_id = format!("{:016X}", serial | 0xC000_0000_0000_0000);
                    [
                        ("auth", 0x5000_0000_0000_0000u64),
                        ("sign", 0x6000_0000_0000_0000),
                    ]
                    .map(|(ca, prefix)| {
                        vec![
                            format!("{:016X}", serial | prefix).into(),
                            ca.into(),
                            card_id.as_str().into(),
                            vec![0u8].into(),
                        ]
                    })
                })
                .collect();
            let mut tx = self.pool.begin().await?;
            tx.insert_many(
                "INSERT INTO cards (id, resident_id, status, created_at, updated_at, chip) VALUES",
                "($1, NULL, 'active', $2, $2, $3)",
                &cards,
            )
            .await?;
            tx.insert_many(
                "INSERT INTO certificates (serial, ca, card_id, not_before, not_after, der) VALUES",
                "($1, $2, $3, 1700000000, 4000000000, $4)",
                &certificates,
            )
            .await?;
            tx.commit().await?;
            next = upto;
        }
        Ok(())
    }
}
