//! `maina bench manufacture`: the card bureau's job end to end (chip with two
//! RSA-2048 keys generated inside it, face rendered, sealed, stored, shipment
//! written) on N approved applications, beside the bare RSA-2048 key generation
//! rate of the same machine on all cores (the ceiling: a card needs two keys).

use crate::{bench_actor, scratch, synth, BenchError, Result, MUNICIPALITY};
use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
use maina_service::notice::{load_font, DEFAULT_FONT};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub async fn run(database: Option<&str>, cards: u64, batch: usize) -> Result<()> {
    let scratch = scratch::open(database, "bench manufacture", "bench-manufacture-").await?;
    let store = &scratch.store;
    scratch::ensure_empty(store).await?;
    scratch::add_municipality(store).await?;
    let backend = store.backend().name();
    println!("bench manufacture: registering {cards} residents with approved applications ({backend}) ...");
    let today = crate::today();
    let registrations = (0..cards)
        .map(|i| {
            synth::resident(i, MUNICIPALITY)
                .parse(today)
                .map(|r| (i, r))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let people: Vec<(String, chrono::NaiveDate)> = registrations
        .iter()
        .map(|(_, r)| (r.person.name.to_string(), r.person.birth_date))
        .collect();
    let keys = store.reserve_resident_keys(cards).await?;
    let first = keys.start;
    let sealed = store.seal_registrations(keys, registrations)?;
    store.insert_sealed(sealed, None, &bench_actor()).await?;
    let residents: Vec<(u64, String, chrono::NaiveDate)> = (first..)
        .zip(people)
        .map(|(key, (name, birth))| (key, name, birth))
        .collect();
    store.bench_approved_applications(&residents).await?;

    let font = load_font(std::path::Path::new(DEFAULT_FONT))
        .map_err(|e| BenchError::Refused(e.to_string()))?;
    let options = ManufactureOptions {
        municipality: None,
        limit: cards as usize,
        batch: batch.max(1),
        today: japan_today(),
    };
    let progress = indicatif::ProgressBar::new(cards);
    let started = Instant::now();
    let report = manufacture(store, &font, &bench_actor(), &options, |made, _| {
        progress.set_position(made as u64)
    })
    .await
    .map_err(|e| BenchError::Refused(e.to_string()))?;
    let elapsed = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    let rate = report.made as f64 / elapsed;
    println!(
        "manufacture ({backend}): {} cards in {elapsed:.1} s: {rate:.1} cards/s, {} shipments, {} rejected",
        report.made,
        report.shipments.len(),
        report.rejected.len()
    );
    let rss = crate::numbering::peak_rss_mb().unwrap_or(0.0);
    let keygen = keygen_rate(Duration::from_secs(10))?;
    let ceiling = keygen / 2.0;
    println!(
        "bare RSA-2048 key generation (OpenSSL, {} threads): {keygen:.1} keys/s = {ceiling:.1} cards/s at two keys a card",
        threads()
    );
    println!(
        "ratio: {:.0}% of the key-generation ceiling; peak RSS {rss:.0} MB",
        100.0 * rate / ceiling
    );
    store.close().await;
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// RSA-2048 keys generated per second on every core for `span`.
fn keygen_rate(span: Duration) -> Result<f64> {
    let made = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failed = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads() {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if maina_pki::KeyPair::generate().is_err() {
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                    made.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
    });
    if failed.load(Ordering::Relaxed) {
        return Err(BenchError::Refused("RSA key generation failed".into()));
    }
    Ok(made.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
