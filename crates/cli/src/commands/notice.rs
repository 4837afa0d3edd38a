//! `maina notice ...`: the Individual Number Notice letters and their registered-mail
//! tracking.

use crate::commands::today;
use crate::context::Context;
use anyhow::{anyhow, bail, Context as _, Result};
use clap::Subcommand;
use maina_core::application::NoticeMail;
use maina_core::{ApplicationFormId, MunicipalityCode, ResidentCode};
use maina_service::notice::{load_font, render, NoticeLetter, DEFAULT_FONT};
use maina_store::Store;
use rand::Rng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum NoticeCommand {
    /// Write one PDF letter per resident who has no printed notice yet (every
    /// municipality unless one is named), with the application form, its form ID and
    /// QR code. Files are named by resident record code.
    Print {
        /// Only this municipality (6-digit code).
        #[arg(long)]
        municipality: Option<String>,
        /// Directory for the PDFs.
        #[arg(long)]
        out: PathBuf,
        /// The Japanese font to embed.
        #[arg(long, default_value = DEFAULT_FONT)]
        font: PathBuf,
        /// The online application address printed and put in the QR code.
        #[arg(long, env = "MAINA_BASE_URL", default_value = "http://127.0.0.1:8080")]
        base_url: String,
        /// At most this many letters.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Record where a notice is as registered mail.
    Track {
        /// Resident record code.
        resident: String,
        /// posted | delivered | absent | redelivery-requested | returned-to-office
        #[arg(long)]
        status: String,
    },
    /// Show a resident's notice: form ID and mail status.
    Show { resident: String },
}

pub async fn run(context: &Context, command: NoticeCommand) -> Result<()> {
    context
        .with_store(async |store| {
            let who = context.who();
            match command {
                NoticeCommand::Print {
                    municipality,
                    out,
                    font,
                    base_url,
                    limit,
                } => {
                    print(
                        context,
                        store,
                        municipality.as_deref(),
                        &out,
                        &font,
                        &base_url,
                        limit,
                    )
                    .await?
                }
                NoticeCommand::Track { resident, status } => {
                    let code: ResidentCode = resident.parse().map_err(|e| anyhow!("resident: {e}"))?;
                    let next = NoticeMail::from_code(&status).ok_or_else(|| {
                        anyhow!("status: expected posted, delivered, absent, redelivery-requested or returned-to-office")
                    })?;
                    let key = store.authority().resident_key(&code)?;
                    store.track_notice(key, next, &who).await?;
                    println!("notice of {} is now {}", code.as_digits(), next.code());
                }
                NoticeCommand::Show { resident } => {
                    let code: ResidentCode = resident.parse().map_err(|e| anyhow!("resident: {e}"))?;
                    let key = store.authority().resident_key(&code)?;
                    match store.notice(key).await? {
                        Some(notice) => println!("form ID {}  mail {}", notice.form_id, notice.mail_status),
                        None => println!("no notice yet"),
                    }
                }
            }
            Ok(())
        })
        .await
}

/// Writes the letters not printed yet (of one municipality, or all), at most
/// `limit` of them.
async fn print(
    context: &Context,
    store: &Store,
    municipality: Option<&str>,
    out: &Path,
    font: &Path,
    base_url: &str,
    limit: Option<u64>,
) -> Result<()> {
    let who = context.who();
    if let Some(code) = municipality {
        code.parse::<MunicipalityCode>()
            .map_err(|e| anyhow!("municipality: {e}"))?;
    }
    let font = load_font(font)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let names: HashMap<String, (String, String)> = store
        .municipalities()
        .await?
        .into_iter()
        .map(|m| (m.code.as_digits(), (m.name_ja, m.name_en)))
        .collect();
    let today = today();
    let limit = limit.unwrap_or(u64::MAX);
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} letters {per_sec} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = std::time::Instant::now();
    let mut printed = 0u64;
    let mut after = 0u64;
    while printed < limit {
        let batch = store
            .residents_awaiting_notice(municipality, after, 256)
            .await?;
        let Some(last) = batch.last() else { break };
        after = *last;
        let mut letters = Vec::with_capacity(batch.len());
        for key in batch
            .into_iter()
            .take(usize::try_from(limit - printed).unwrap_or(usize::MAX))
        {
            let view = store.resident(key).await?;
            let form_id = match store.notice(key).await? {
                Some(notice) => notice.form_id,
                None => {
                    let random = rand::rngs::OsRng.gen_range(0..ApplicationFormId::RANDOM_SPACE);
                    let form_id = ApplicationFormId::new(view.record.municipality, random)?;
                    store.put_notice(key, &form_id, &who).await?;
                    form_id
                }
            };
            let (ja, en) = names
                .get(&view.record.municipality.as_digits())
                .cloned()
                .unwrap_or_default();
            letters.push((
                key,
                view.resident_code,
                NoticeLetter {
                    municipality_ja: ja,
                    municipality_en: en,
                    name: view.record.person.name.to_string(),
                    address: view.record.address.as_str().to_owned(),
                    birth_date: view.record.person.birth_date,
                    my_number: view.my_number,
                    form_id,
                    issued: today,
                    apply_base_url: base_url.to_owned(),
                },
            ));
        }
        // Rendering is the work: both cores share it.
        let half = letters.len().div_ceil(2);
        let rendered: Vec<Result<Vec<u8>, _>> = std::thread::scope(|scope| {
            let handles: Vec<_> = letters
                .chunks(half.max(1))
                .map(|chunk| {
                    let font = font.clone();
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(_, _, letter)| render(&font, letter))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if rendered.len() != letters.len() {
            bail!("a rendering thread failed");
        }
        for ((key, code, _), pdf) in letters.iter().zip(rendered) {
            let path = out.join(format!("{}.pdf", code.as_digits()));
            std::fs::write(&path, pdf?).with_context(|| format!("writing {}", path.display()))?;
            store.notice_printed(*key, &who).await?;
            printed += 1;
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "printed {printed} notices into {} in {seconds:.1} s ({:.0} letters/s)",
        out.display(),
        printed as f64 / seconds.max(1e-9)
    );
    Ok(())
}
