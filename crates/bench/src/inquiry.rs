//! `maina bench inquiry`: the public status inquiry (form ID + birth date) through
//! the real server, beside the raw point look-up of the same rows.

use crate::load::{bare_inquiry_router, measure_both, start_bare, start_server, wrk_script, Load};
use crate::{scratch, BenchError, Result, MUNICIPALITY};
use maina_core::{ApplicationFormId, MunicipalityCode, ReceiptNumber};
use maina_store::Store;
use rand::Rng;

/// How many applications the load picks from.
const SAMPLE: usize = 10_000;

/// Rows per insert.
const BATCH: u64 = 20_000;

pub async fn run(database: Option<&str>, applications: u64, load: Load) -> Result<()> {
    let scratch = scratch::open(database, "bench inquiry", "bench-inquiry-").await?;
    let store = &scratch.store;
    let backend = store.backend().name();
    println!("bench inquiry: storing {applications} applications ({backend}) ...");
    let sample = store_applications(store, applications).await?;

    let ours_script = wrk_script(
        scratch.dir.path(),
        "inquiry.lua",
        "forms",
        sample.iter().map(|(form, _)| form),
        &[
            "local body = '{\"number\":\"' .. forms[math.random(#forms)] .. '\",\"birth_date\":\"1990-04-01\"}'",
            "return wrk.format(\"POST\", \"/api/v1/application-status\", {[\"Content-Type\"] = \"application/json\"}, body)",
        ],
    )?;
    // As strings: Lua's numbers are doubles, and these keys use all 64 bits.
    let bare_script = wrk_script(
        scratch.dir.path(),
        "bare.lua",
        "keys",
        sample.iter().map(|(_, key)| key),
        &["return wrk.format(\"GET\", \"/bare/\" .. keys[math.random(#keys)])"],
    )?;
    let (ours, ceiling) = measure_both(
        (start_server(store).await?, ours_script),
        (
            start_bare(bare_inquiry_router(store.clone())).await?,
            bare_script,
        ),
        load,
        ("applications", sample.len()),
    )
    .await?;
    println!(
        "status inquiry ({backend}, {applications} applications): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}",
        ours.requests_per_second, ours.p50_ms, ours.p99_ms, ours.non_2xx
    );
    println!(
        "raw point look-up (ceiling):                      {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}",
        ceiling.requests_per_second, ceiling.p50_ms, ceiling.p99_ms, ceiling.non_2xx
    );
    let ratio = ours.percent_of(&ceiling);
    println!("ratio: {ratio:.0}% of the ceiling");
    store.close().await;
    Ok(())
}

/// Stores `applications` applications (all of one birth date, 1990-04-01) and
/// returns a sample of their form IDs with their look-up keys.
async fn store_applications(store: &Store, applications: u64) -> Result<Vec<(String, i64)>> {
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 4, 1)
        .ok_or_else(|| BenchError::Refused("date".into()))?;
    let municipality: MunicipalityCode = MUNICIPALITY.parse()?;
    store.set_bulk_mode(true).await?;
    let started = std::time::Instant::now();
    let progress = indicatif::ProgressBar::new(applications);
    let mut sample: Vec<(String, i64)> = Vec::new();
    // The sample is spread over the whole table (every `step`-th row, step =
    // ceil(N / 10,000)), so that the
    // rows asked for are not neighbours on a few hot pages.
    let step = applications.div_ceil(SAMPLE as u64).max(1);
    // Numbers run on from random starting points: all distinct (random draws would
    // collide, as a real office's retry on a taken number avoids), while their keyed
    // hashes still scatter them over the indexes.
    let (form_base, receipt_base) = {
        let mut rng = rand::thread_rng();
        (
            rng.gen_range(0..ApplicationFormId::RANDOM_SPACE.saturating_sub(applications)),
            rng.gen_range(0..ReceiptNumber::RANDOM_SPACE.saturating_sub(applications)),
        )
    };
    let mut next = 1u64;
    while next <= applications {
        let count = BATCH.min(applications - next + 1);
        let forms = (next..next + count)
            .map(|row| {
                Ok((
                    ApplicationFormId::new(municipality, form_base + row)?,
                    ReceiptNumber::new(receipt_base + row)?,
                ))
            })
            .collect::<Result<Vec<_>, maina_core::IdError>>()?;
        for (offset, (form, _)) in (0u64..).zip(&forms) {
            if (next + offset - 1).is_multiple_of(step) && sample.len() < SAMPLE {
                sample.push((form.as_digits(), store.bench_form_key(form)));
            }
        }
        // Keyed hashing on both cores, then one insert.
        let half = forms.len().div_ceil(2);
        let parts: Vec<Result<Vec<Vec<maina_store::Value>>, maina_store::StoreError>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = forms
                    .chunks(half.max(1))
                    .enumerate()
                    .map(|(i, chunk)| {
                        let first = next + (i * half) as u64;
                        scope.spawn(move || store.bench_application_rows(first, chunk, birth))
                    })
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
        let mut rows = Vec::with_capacity(forms.len());
        for part in parts {
            rows.extend(part?);
        }
        store.bench_insert_applications(&rows).await?;
        next += count;
        progress.inc(count);
    }
    progress.finish_and_clear();
    store.set_bulk_mode(false).await?;
    println!(
        "stored {applications} applications in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(sample)
}
