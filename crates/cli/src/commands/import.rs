//! `maina resident import FILE.csv`: a bulk job. Rows are parsed and checked one by
//! one; valid rows go in by batches, each batch in one transaction together with the
//! import's checkpoint (the next line to read) and the batch's rejected rows. A run
//! killed at any point resumes at the last committed checkpoint: no resident twice,
//! none lost. The file is identified by its SHA-256, so an edited file is a new import.

use crate::commands::{today, with_suffix};
use crate::context::Context;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use maina_core::person::FieldError;
use maina_core::resident::{Registration, RegistrationForm};
use maina_store::{ImportProgress, Rejection, Store};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// CSV file with a header row; columns are the registration fields (municipality,
    /// reason, family_name, given_name, family_kana, given_kana, alphabet_name, alias,
    /// name_kana, birth_date, sex, address, nationality, passport, residence_status,
    /// period_of_stay, prior_resident_code).
    file: PathBuf,
    /// Rows per transaction.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch: u64,
    /// Where to write the report of rejected rows (default: FILE.rejects.csv).
    #[arg(long)]
    report: Option<PathBuf>,
    /// No progress bar (for logs and scripts).
    #[arg(long)]
    quiet: bool,
}

fn file_hash(path: &Path) -> Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(buffer.get(..read).unwrap_or(&[]));
        total += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// The field a CSV decoding error is about, when the error says.
fn csv_field(error: &csv::Error, headers: &csv::StringRecord) -> &'static str {
    const FIELDS: [&str; 17] = [
        "municipality",
        "reason",
        "family_name",
        "given_name",
        "family_kana",
        "given_kana",
        "alphabet_name",
        "alias",
        "name_kana",
        "birth_date",
        "sex",
        "address",
        "nationality",
        "passport",
        "residence_status",
        "period_of_stay",
        "prior_resident_code",
    ];
    if let csv::ErrorKind::Deserialize { err, .. } = error.kind() {
        if let Some(index) = err.field() {
            if let Some(name) = headers.get(index as usize) {
                if let Some(field) = FIELDS.iter().find(|f| **f == name) {
                    return field;
                }
            }
        }
    }
    "row"
}

pub async fn run(context: &Context, args: ImportArgs) -> Result<()> {
    context
        .with_store(async |store| {
            store.set_bulk_mode(true).await?;
            import(store, context, &args).await
        })
        .await
}

async fn import(store: &Store, context: &Context, args: &ImportArgs) -> Result<()> {
    let (hash, size) = file_hash(&args.file)?;
    let file_name = args.file.display().to_string();
    let state = store.import_state(&hash).await?;
    let resume_from = match &state {
        Some(state) if state.finished => {
            println!(
                "{file_name} was imported before (same content): {} accepted, {} rejected; nothing to do",
                state.accepted, state.rejected
            );
            return write_report(store, &hash, args).await;
        }
        Some(state) => {
            println!(
                "resuming {file_name} at line {} ({} accepted, {} rejected so far)",
                state.next_line, state.accepted, state.rejected
            );
            state.next_line
        }
        None => 0,
    };

    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(&args.file)
        .with_context(|| format!("reading {file_name}"))?;
    let headers = reader.headers().context("reading the header row")?.clone();
    for (index, header) in headers.iter().enumerate() {
        if header.trim().is_empty() {
            bail!("header row: column {} has no name", index + 1);
        }
    }
    // Unknown columns are refused up front: a misspelt column would otherwise make
    // every row fail with the same error.
    let mut probe = csv::StringRecord::new();
    for _ in headers.iter() {
        probe.push_field("");
    }
    if let Err(error) = probe.deserialize::<RegistrationForm>(Some(&headers)) {
        bail!("header row of {file_name}: {error}");
    }

    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{spinner} {bar:40} {bytes}/{total_bytes} {msg} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };

    let today = today();
    let mut batch: Vec<(u64, Registration)> = Vec::new();
    let mut rejections: Vec<Rejection> = Vec::new();
    let mut accepted = 0u64;
    let mut rejected = 0u64;
    let mut next_line = resume_from;
    let mut record = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(error) if matches!(error.kind(), csv::ErrorKind::Io(_)) => {
                return Err(error).with_context(|| format!("reading {file_name}"));
            }
            Err(error) => {
                // A malformed line (wrong number of fields, bad UTF-8) is a rejected
                // row, not the end of the import.
                let line = error.position().map(|p| p.line()).unwrap_or(next_line);
                if line >= resume_from {
                    rejections.push(Rejection::new(
                        line,
                        &FieldError::new("row", error.to_string()),
                    ));
                    next_line = line + 1;
                }
                // The reader leaves the bad row's fields in `record`: drop them, so
                // the row is only rejected, never also parsed.
                record.clear();
                true
            }
        };
        if more && !record.is_empty() {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if line >= resume_from {
                match record.deserialize::<RegistrationForm>(Some(&headers)) {
                    Ok(form) => match form.parse(today) {
                        Ok(registration) => batch.push((line, registration)),
                        Err(error) => rejections.push(Rejection::new(line, &error)),
                    },
                    Err(error) => {
                        let field = csv_field(&error, &headers);
                        rejections.push(Rejection::new(
                            line,
                            &FieldError::new(field, error.to_string()),
                        ));
                    }
                }
                next_line = line + 1;
            }
            progress.set_position(record.position().map(|p| p.byte()).unwrap_or(0));
        }
        let full = (batch.len() + rejections.len()) as u64 >= args.batch;
        if (full || !more) && (!batch.is_empty() || !rejections.is_empty()) {
            let rows = std::mem::take(&mut batch);
            let parse_rejections = std::mem::take(&mut rejections);
            rejected += parse_rejections.len() as u64;
            let keys = store.reserve_resident_keys(rows.len() as u64).await?;
            let sealed = store.seal_registrations(keys, rows)?;
            let outcomes = store
                .insert_sealed(
                    sealed,
                    Some(ImportProgress {
                        file_hash: hash.clone(),
                        file_name: file_name.clone(),
                        next_line,
                        rejections: parse_rejections,
                    }),
                    &context.who(),
                )
                .await?;
            for outcome in outcomes {
                match outcome {
                    Ok(_) => accepted += 1,
                    Err(_) => rejected += 1,
                }
            }
            progress.set_message(format!("{accepted} accepted, {rejected} rejected"));
        }
        if !more {
            break;
        }
    }
    progress.finish_and_clear();
    store.finish_import(&hash).await?;
    store.merge_search_index().await?;
    let state = store.import_state(&hash).await?;
    let (total_accepted, total_rejected) = state
        .map(|s| (s.accepted, s.rejected))
        .unwrap_or((accepted, rejected));
    println!("imported {file_name}: {total_accepted} accepted, {total_rejected} rejected");
    write_report(store, &hash, args).await
}

async fn write_report(store: &Store, hash: &str, args: &ImportArgs) -> Result<()> {
    let rejections = store.import_rejections(hash).await?;
    if rejections.is_empty() {
        return Ok(());
    }
    let path = args
        .report
        .clone()
        .unwrap_or_else(|| with_suffix(&args.file, ".rejects.csv"));
    let mut writer =
        csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
    writer.write_record(["line", "field", "reason"])?;
    for rejection in &rejections {
        writer.write_record([
            rejection.line.to_string(),
            rejection.field.clone(),
            rejection.reason.clone(),
        ])?;
    }
    writer.flush()?;
    for rejection in rejections.iter().take(10) {
        eprintln!(
            "line {}: {}: {}",
            rejection.line, rejection.field, rejection.reason
        );
    }
    if rejections.len() > 10 {
        eprintln!("... and {} more", rejections.len() - 10);
    }
    println!(
        "rejected rows: {} (report: {})",
        rejections.len(),
        path.display()
    );
    Ok(())
}
