//! `maina bench numbering`: registration end to end (validate, number, seal,
//! persist) beside bare inserts of rows of the same shape; and the quick fill the
//! HTTP benchmark stores its residents with.

use crate::{bench_actor, scratch, synth, today, BenchError, Result, MUNICIPALITY};
use maina_core::resident::Registration;
use maina_store::{SealedRegistration, Store};
use rand::RngCore;
use std::time::Instant;

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

fn refused(error: String) -> BenchError {
    BenchError::Refused(format!("synthetic resident refused: {error}"))
}

/// Peak resident set size of this process, in MB (Linux), from /proc.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn run(
    database: Option<&str>,
    residents: u64,
    batch: u64,
    no_ceiling: bool,
) -> Result<()> {
    let scratch = scratch::open(database, "bench numbering", "bench-").await?;
    let store = &scratch.store;
    let backend = store.backend().name();
    scratch::ensure_empty(store).await?;
    scratch::add_municipality(store).await?;
    store.bench_reset().await?;
    println!("bench numbering: {residents} residents, batches of {batch}, {backend}");

    // Keys are reserved up front, so producer threads can validate, number and
    // seal the next batches while the database writes the current one: the
    // machine's cores work side by side. Each producer takes every n-th batch.
    store.set_bulk_mode(true).await?;
    let keys = store.reserve_resident_keys(residents).await?;
    let (sender, mut receiver) =
        tokio::sync::mpsc::channel::<Result<Vec<SealedRegistration>, String>>(2);
    let today = today();
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
    let actor = bench_actor();
    let progress = indicatif::ProgressBar::new(residents);
    let mut written = 0u64;
    while let Some(sealed) = receiver.recv().await {
        let outcomes = store
            .insert_sealed(sealed.map_err(refused)?, None, &actor)
            .await?;
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
            Err(_) => return Err(BenchError::Refused("a producer thread failed".into())),
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
        return Err(BenchError::Refused(format!(
            "only {written} of {residents} residents were written"
        )));
    }
    if !no_ceiling {
        bare_insert_ceiling(store, residents, batch, average_sealed, rate).await?;
    }
    if let Some(rss) = peak_rss_mb() {
        println!("peak RSS    {rss:.0} MB");
    }
    store.bench_reset().await?;
    store.close().await;
    Ok(())
}

/// The ceiling: `residents` bare rows of the sealed records' size, by the same
/// batches, with a sequential key.
async fn bare_insert_ceiling(
    store: &Store,
    residents: u64,
    batch: u64,
    average_sealed: usize,
    rate: f64,
) -> Result<()> {
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
    Ok(())
}

/// Registers `residents` synthetic residents quickly (the numbering path, one
/// thread) and returns a sample of their resident record codes.
pub async fn fill(store: &Store, residents: u64, batch: u64, sample: usize) -> Result<Vec<String>> {
    let today = today();
    let actor = bench_actor();
    store.set_bulk_mode(true).await?;
    let keys = store.reserve_resident_keys(residents).await?;
    let progress = indicatif::ProgressBar::new(residents);
    let mut codes = Vec::with_capacity(sample);
    let step = (residents / sample.max(1) as u64).max(1);
    let mut next = 0u64;
    while next < residents {
        let end = (next + batch).min(residents);
        let sealed = seal_batch(store, next..end, keys.start, today).map_err(refused)?;
        for outcome in store
            .insert_sealed(sealed, None, &actor)
            .await?
            .into_iter()
            .flatten()
        {
            if outcome.resident_key % step == 0 && codes.len() < sample {
                codes.push(outcome.resident_code.as_digits());
            }
        }
        next = end;
        progress.set_position(next);
    }
    progress.finish_and_clear();
    store.merge_search_index().await?;
    store.set_bulk_mode(false).await?;
    Ok(codes)
}
