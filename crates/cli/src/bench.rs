//! `maina bench ...`: benchmarks that print figures (they assert nothing).

use crate::synth;
use crate::Context;
use anyhow::{bail, Result};
use clap::Subcommand;
use maina_core::resident::Registration;
use maina_store::{Keys, Municipality, SealedRegistration, Store};
use rand::RngCore;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Register N synthetic residents end to end (validate, number, seal, persist)
    /// into a fresh database, then insert N bare rows of the same shape (the
    /// ceiling), and print both rates and the peak RSS.
    Numbering {
        /// How many residents.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        /// Rows per transaction.
        #[arg(long, default_value_t = 5000)]
        batch: u64,
        /// Skip the bare-insert ceiling.
        #[arg(long)]
        no_ceiling: bool,
    },
}

const MUNICIPALITY: &str = "131016";

/// Threads that validate, number and seal (the database writes on another).
const PRODUCERS: u64 = 2;

/// Validates, numbers and seals synthetic residents `range`.
fn seal_batch(
    store: &Store,
    range: std::ops::Range<u64>,
    first_key: u64,
    today: chrono::NaiveDate,
) -> Result<Vec<SealedRegistration>, String> {
    let keys = first_key + range.start..first_key + range.end;
    let rows = range
        .map(|i| {
            synth::resident(i, MUNICIPALITY)
                .parse(today)
                .map(|r| (i, r))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<(u64, Registration)>, String>>()?;
    store
        .seal_registrations(keys, rows)
        .map_err(|e| e.to_string())
}

pub async fn run(context: &Context, command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Numbering {
            residents,
            batch,
            no_ceiling,
        } => numbering(context, residents, batch.max(1), no_ceiling).await,
    }
}

/// Peak resident set size of this process, in MB (Linux), from /proc.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn numbering(context: &Context, residents: u64, batch: u64, no_ceiling: bool) -> Result<()> {
    // A fresh database: SQLite in a temporary directory under the data directory,
    // or the given PostgreSQL database (which must be one for benchmarks: it is
    // filled with synthetic residents).
    let scratch = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir_in(std::env::temp_dir())?;
    let url = match &context.db {
        Some(url) if url.starts_with("postgres") => url.clone(),
        Some(url) => bail!("bench numbering makes its own SQLite file; --db takes a PostgreSQL URL here, not {url}"),
        None => maina_store::sqlite_url(&scratch.path().join("bench.sqlite3")),
    };
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let store = Store::open(&url, &Keys::from_bytes(master)).await?;
    let backend = store.backend().name();
    if store.resident_count().await? > 0 {
        bail!("the benchmark database already holds residents: give an empty database");
    }
    store
        .put_municipality(&Municipality {
            code: MUNICIPALITY.parse()?,
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await?;
    store.bench_reset().await?;
    println!("bench numbering: {residents} residents, batches of {batch}, {backend}");

    // Keys are reserved up front, so producer threads can validate, number and
    // seal the next batches while the database writes the current one: the
    // machine's cores work side by side. Each producer takes every n-th batch.
    let keys = store.reserve_resident_keys(residents).await?;
    let (sender, mut receiver) =
        tokio::sync::mpsc::channel::<Result<Vec<SealedRegistration>, String>>(4);
    let today = crate::resident::today();
    let started = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let store = store.clone();
            let sender = sender.clone();
            let keys = keys.clone();
            std::thread::spawn(move || {
                let mut sealed_bytes = 0usize;
                let mut next = producer * batch;
                while next < residents {
                    let end = (next + batch).min(residents);
                    let sealed = seal_batch(&store, next..end, keys.start, today);
                    if let Ok(sealed) = &sealed {
                        if sealed_bytes == 0 && !sealed.is_empty() {
                            sealed_bytes = sealed
                                .iter()
                                .map(SealedRegistration::sealed_len)
                                .sum::<usize>()
                                / sealed.len();
                        }
                    }
                    if sender.blocking_send(sealed).is_err() {
                        break;
                    }
                    next += PRODUCERS * batch;
                }
                sealed_bytes
            })
        })
        .collect();
    drop(sender);
    let actor = maina_core::officer::Actor::administrator("bench", "benchmark");
    let progress = indicatif::ProgressBar::new(residents);
    let mut written = 0u64;
    while let Some(sealed) = receiver.recv().await {
        let sealed = match sealed {
            Ok(sealed) => sealed,
            Err(error) => bail!("synthetic resident refused: {error}"),
        };
        let outcomes = store.insert_sealed(sealed, None, &actor).await?;
        written += outcomes.iter().filter(|o| o.is_ok()).count() as u64;
        progress.set_position(written);
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    // Registration leaves search-index entries pending (appended in resident
    // order); the merge into the key-ordered index happens after bulk jobs and in
    // the server's background. Timed and printed on its own.
    let merge_started = Instant::now();
    store.merge_search_index().await?;
    let merge_elapsed = merge_started.elapsed();
    let mut average_sealed = 0;
    for producer in producers {
        match producer.join() {
            Ok(bytes) => average_sealed = average_sealed.max(bytes),
            Err(_) => bail!("a producer thread failed"),
        }
    }
    let rate = written as f64 / elapsed.as_secs_f64();
    println!(
        "registered  {written} residents in {:.2} s: {:.0} residents/s (sealed record {average_sealed} bytes)",
        elapsed.as_secs_f64(),
        rate
    );
    println!(
        "index merge {written} search-index entries merged in {:.2} s (after the registrations; searches read pending entries until then)",
        merge_elapsed.as_secs_f64()
    );
    if written != residents {
        bail!("only {written} of {residents} residents were written");
    }

    if !no_ceiling {
        let blob_len = std::env::var("MAINA_BENCH_BLOB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(average_sealed.max(1));
        let mut blobs = vec![vec![0u8; blob_len]; batch as usize];
        for blob in &mut blobs {
            rand::thread_rng().fill_bytes(blob);
        }
        let started = Instant::now();
        let mut next = 1u64;
        while next <= residents {
            let count = batch.min(residents - next + 1) as usize;
            store
                .bench_bare_insert(next, blobs.get(..count).unwrap_or(&blobs), MUNICIPALITY)
                .await?;
            next += count as u64;
        }
        let elapsed = started.elapsed();
        let ceiling = residents as f64 / elapsed.as_secs_f64();
        println!(
            "ceiling     {residents} bare rows in {:.2} s: {:.0} rows/s (same table shape, sequential key, same batches)",
            elapsed.as_secs_f64(),
            ceiling
        );
        println!(
            "ratio       {:.0}% of the bare-insert ceiling",
            100.0 * rate / ceiling
        );
    }
    if let Some(rss) = peak_rss_mb() {
        println!("peak RSS    {rss:.0} MB");
    }
    store.bench_reset().await?;
    store.close().await;
    Ok(())
}
