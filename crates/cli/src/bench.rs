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
    /// Store N residents, then load `GET /api/v1/residents/{code}` with wrk (every
    /// request authenticated, read, decrypted and audited) and a bare axum handler
    /// returning a constant (the framework's ceiling); print requests/s, p50, p99.
    Http {
        /// How many residents to store first.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        /// Seconds of load for each target.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: u32,
    },
    /// Store N applications, then load the status inquiry
    /// (`POST /api/v1/application-status`, form ID + birth date) with wrk, and the
    /// raw point look-up of the same rows behind a bare handler (the ceiling).
    Inquiry {
        #[arg(long, default_value_t = 10_000_000)]
        applications: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        connections: u32,
    },
    /// Authentication checks on one core (RSA-2048 signature on a challenge, the
    /// chain, revocation against a CRL of N serials) beside `openssl speed rsa2048`.
    Auth {
        /// Revoked serials on the CRL.
        #[arg(long, default_value_t = 1_000_000)]
        revoked: u64,
        /// Seconds for each figure.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Round trips of one APDU to the card in a PC/SC reader (e.g. a card attached
    /// with `maina card attach`).
    Apdu {
        #[arg(long, default_value_t = 2000)]
        count: u32,
        #[arg(long)]
        reader: Option<String>,
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
        BenchCommand::Http {
            residents,
            seconds,
            connections,
        } => http(context, residents, seconds.max(1), connections.max(1)).await,
        BenchCommand::Inquiry {
            applications,
            seconds,
            connections,
        } => inquiry(context, applications, seconds.max(1), connections.max(1)).await,
        BenchCommand::Auth { revoked, seconds } => crate::bench_card::auth(revoked, seconds.max(1)),
        BenchCommand::Apdu { count, reader } => {
            crate::bench_card::apdu(count.max(1), reader.as_deref())
        }
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
    store.set_bulk_mode(true).await?;
    let keys = store.reserve_resident_keys(residents).await?;
    let (sender, mut receiver) =
        tokio::sync::mpsc::channel::<Result<Vec<SealedRegistration>, String>>(2);
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

/// Registers `residents` synthetic residents quickly (the numbering path, one
/// thread) and returns a sample of their resident record codes.
async fn fill(store: &Store, residents: u64, batch: u64, sample: usize) -> Result<Vec<String>> {
    let today = crate::resident::today();
    let actor = maina_core::officer::Actor::administrator("bench", "benchmark");
    store.set_bulk_mode(true).await?;
    let keys = store.reserve_resident_keys(residents).await?;
    let progress = indicatif::ProgressBar::new(residents);
    let mut codes = Vec::with_capacity(sample);
    let step = (residents / sample.max(1) as u64).max(1);
    let mut next = 0u64;
    while next < residents {
        let end = (next + batch).min(residents);
        let sealed = match seal_batch(store, next..end, keys.start, today) {
            Ok(sealed) => sealed,
            Err(error) => bail!("synthetic resident refused: {error}"),
        };
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

/// The real server, in-process on a free port: its address, its stop switch and
/// its task.
async fn start_server(
    store: &Store,
) -> Result<(
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), maina_server::ServeError>>,
)> {
    let config = maina_server::ServerConfig {
        listen: "127.0.0.1:0".parse()?,
        ..Default::default()
    };
    let state = maina_server::AppState::new(store.clone(), config.clone());
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(maina_server::serve(
        config.listen,
        state,
        async {
            let _ = stop_rx.await;
        },
        move |addr| {
            let _ = ready_tx.send(addr);
        },
    ));
    Ok((ready_rx.await?, stop_tx, server))
}

/// One wrk run's figures.
struct LoadFigures {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn wrk_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Runs wrk (Debian's `wrk`) against `url` with a Lua script, parses its report.
fn run_wrk(
    url: &str,
    script: &std::path::Path,
    seconds: u64,
    connections: u32,
) -> Result<LoadFigures> {
    let output = std::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|e| {
            anyhow::anyhow!("cannot run wrk ({e}): install it with `apt-get install wrk`")
        })?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let value_after = |label: &str| -> Option<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.trim_start().strip_prefix(label))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
    };
    let requests_per_second = value_after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let p50_ms = value_after("50%")
        .and_then(|v| wrk_duration_ms(&v))
        .unwrap_or(f64::NAN);
    let p99_ms = value_after("99%")
        .and_then(|v| wrk_duration_ms(&v))
        .unwrap_or(f64::NAN);
    let non_2xx = value_after("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(LoadFigures {
        requests_per_second,
        p50_ms,
        p99_ms,
        non_2xx,
    })
}

async fn http(context: &Context, residents: u64, seconds: u64, connections: u32) -> Result<()> {
    let scratch = tempfile::Builder::new().prefix("bench-http-").tempdir()?;
    let url = match &context.db {
        Some(url) if url.starts_with("postgres") => url.clone(),
        Some(url) => bail!(
            "bench http makes its own SQLite file; --db takes a PostgreSQL URL here, not {url}"
        ),
        None => maina_store::sqlite_url(&scratch.path().join("bench.sqlite3")),
    };
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let store = Store::open(&url, &Keys::from_bytes(master)).await?;
    if store.resident_count().await? > 0 {
        bail!("the benchmark database already holds residents: give an empty database");
    }
    let backend = store.backend().name();
    store
        .put_municipality(&Municipality {
            code: MUNICIPALITY.parse()?,
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await?;
    println!("bench http: storing {residents} residents ({backend}) ...");
    let codes = fill(&store, residents, 5000, 10_000).await?;
    let password = "bench password 2026";
    let admin = maina_core::officer::Actor::administrator("bench", "benchmark");
    store
        .add_officer(
            &"bench".parse()?,
            maina_core::officer::Role::Counter,
            MUNICIPALITY.parse()?,
            password,
            &admin,
        )
        .await?;
    let (_, token) = match store.login("bench", password, 3_600_000_000).await? {
        Ok(session) => session,
        Err(failure) => bail!("bench officer cannot log in: {failure:?}"),
    };

    let (addr, stop_tx, server) = start_server(&store).await?;
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare_listener.local_addr()?;
    let (bare_stop_tx, bare_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bare = tokio::spawn(maina_server::serve_bare(bare_listener, async {
        let _ = bare_stop_rx.await;
    }));

    let script = scratch.path().join("residents.lua");
    let list: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
    std::fs::write(
        &script,
        format!(
            "codes = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"/api/v1/residents/\" .. codes[math.random(#codes)], {{[\"Authorization\"] = \"Bearer {token}\"}})\nend\n",
            list.join(",")
        ),
    )?;
    println!("load: wrk, 1 thread, {connections} connections, {seconds} s each, random residents from a sample of {}", codes.len());
    let ours = tokio::task::spawn_blocking({
        let script = script.clone();
        let url = format!("http://{addr}");
        move || run_wrk(&url, &script, seconds, connections)
    })
    .await??;
    let ceiling = tokio::task::spawn_blocking({
        let script = script.clone();
        let url = format!("http://{bare_addr}");
        move || run_wrk(&url, &script, seconds, connections)
    })
    .await??;
    let _ = stop_tx.send(());
    let _ = bare_stop_tx.send(());
    let _ = server.await;
    let _ = bare.await;
    println!(
        "GET /api/v1/residents/{{code}}  {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  (non-2xx: {})",
        ours.requests_per_second, ours.p50_ms, ours.p99_ms, ours.non_2xx
    );
    println!(
        "bare axum constant handler     {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms",
        ceiling.requests_per_second, ceiling.p50_ms, ceiling.p99_ms
    );
    println!(
        "ratio                          {:.0}% of the ceiling",
        100.0 * ours.requests_per_second / ceiling.requests_per_second.max(1.0)
    );
    store.close().await;
    Ok(())
}

async fn inquiry(
    context: &Context,
    applications: u64,
    seconds: u64,
    connections: u32,
) -> Result<()> {
    use maina_core::{ApplicationFormId, ReceiptNumber};
    use rand::Rng;
    let scratch = tempfile::Builder::new()
        .prefix("bench-inquiry-")
        .tempdir()?;
    let url = match &context.db {
        Some(url) if url.starts_with("postgres") => url.clone(),
        Some(url) => bail!(
            "bench inquiry makes its own SQLite file; --db takes a PostgreSQL URL here, not {url}"
        ),
        None => maina_store::sqlite_url(&scratch.path().join("bench.sqlite3")),
    };
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let store = Store::open(&url, &Keys::from_bytes(master)).await?;
    let backend = store.backend().name();
    let birth =
        chrono::NaiveDate::from_ymd_opt(1990, 4, 1).ok_or_else(|| anyhow::anyhow!("date"))?;
    let municipality: maina_core::MunicipalityCode = MUNICIPALITY.parse()?;
    println!("bench inquiry: storing {applications} applications ({backend}) ...");
    store.set_bulk_mode(true).await?;
    let started = std::time::Instant::now();
    let progress = indicatif::ProgressBar::new(applications);
    let mut sample: Vec<(String, i64)> = Vec::new();
    // The sample is spread over the whole table (every `step`-th row, step =
    // ceil(N / 10,000)), so that the
    // rows asked for are not neighbours on a few hot pages.
    let step = applications.div_ceil(10_000).max(1);
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
    let batch = 20_000u64;
    let mut next = 1u64;
    while next <= applications {
        let count = batch.min(applications - next + 1);
        let forms = (next..next + count)
            .map(|row| {
                Ok((
                    ApplicationFormId::new(municipality, form_base + row)?,
                    ReceiptNumber::new(receipt_base + row)?,
                ))
            })
            .collect::<Result<Vec<_>, maina_core::IdError>>()?;
        for (offset, (form, _)) in (0u64..).zip(&forms) {
            if (next + offset - 1).is_multiple_of(step) && sample.len() < 10_000 {
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
                        let store = &store;
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

    let (addr, stop_tx, server) = start_server(&store).await?;
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare_listener.local_addr()?;
    let (bare_stop_tx, bare_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let bare = tokio::spawn(maina_server::serve_router(
        bare_listener,
        maina_server::bare_inquiry_router(store.clone()),
        async {
            let _ = bare_stop_rx.await;
        },
    ));
    let ours_script = scratch.path().join("inquiry.lua");
    let forms: Vec<String> = sample.iter().map(|(f, _)| format!("\"{f}\"")).collect();
    std::fs::write(
        &ours_script,
        format!(
            "forms = {{{}}}\nrequest = function()\n  local body = '{{\"number\":\"' .. forms[math.random(#forms)] .. '\",\"birth_date\":\"1990-04-01\"}}'\n  return wrk.format(\"POST\", \"/api/v1/application-status\", {{[\"Content-Type\"] = \"application/json\"}}, body)\nend\n",
            forms.join(",")
        ),
    )?;
    let bare_script = scratch.path().join("bare.lua");
    // As strings: Lua's numbers are doubles, and these keys use all 64 bits.
    let keys: Vec<String> = sample.iter().map(|(_, k)| format!("\"{k}\"")).collect();
    std::fs::write(
        &bare_script,
        format!(
            "keys = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"/bare/\" .. keys[math.random(#keys)])\nend\n",
            keys.join(",")
        ),
    )?;
    println!("load: wrk, 1 thread, {connections} connections, {seconds} s each, random applications from a sample of {}", sample.len());
    let ours = tokio::task::spawn_blocking({
        let url = format!("http://{addr}");
        move || run_wrk(&url, &ours_script, seconds, connections)
    })
    .await??;
    let ceiling = tokio::task::spawn_blocking({
        let url = format!("http://{bare_addr}");
        move || run_wrk(&url, &bare_script, seconds, connections)
    })
    .await??;
    let _ = stop_tx.send(());
    let _ = bare_stop_tx.send(());
    let _ = server.await;
    let _ = bare.await;
    println!(
        "status inquiry ({backend}, {applications} applications): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}",
        ours.requests_per_second, ours.p50_ms, ours.p99_ms, ours.non_2xx
    );
    println!(
        "raw point look-up (ceiling):                      {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}",
        ceiling.requests_per_second, ceiling.p50_ms, ceiling.p99_ms, ceiling.non_2xx
    );
    println!(
        "ratio: {:.0}% of the ceiling",
        100.0 * ours.requests_per_second / ceiling.requests_per_second.max(1.0)
    );
    store.close().await;
    Ok(())
}
