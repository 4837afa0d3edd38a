//! `maina notice ...`: the Individual Number Notice letters and their registered-mail
//! tracking.

use crate::commands::resident;
use crate::commands::today;
use crate::context::Context;
use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use maina_service::notice::{load_font, render, DEFAULT_FONT};
use maina_service::notices::PrintRun;
use maina_service::residents::resident_code;
use maina_service::{Actor, Service};
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
            let service = resident::service(store);
            match command {
                NoticeCommand::Print {
                    municipality,
                    out,
                    font,
                    base_url,
                    limit,
                } => {
                    let run = service
                        .print_run(municipality.as_deref(), today(), &base_url)
                        .await?;
                    print(&service, &who, &run, &out, &font, limit).await?
                }
                NoticeCommand::Track { resident, status } => {
                    let next = service.track_notice(&who, &resident, &status).await?;
                    let code = resident_code(&resident)?;
                    println!("notice of {} is now {}", code.as_digits(), next.code());
                }
                NoticeCommand::Show { resident } => match service.notice_of(&who, &resident).await?
                {
                    Some(notice) => {
                        println!("form ID {}  mail {}", notice.form_id, notice.mail_status)
                    }
                    None => println!("no notice yet"),
                },
            }
            Ok(())
        })
        .await
}

/// Writes a file readable by its owner only (0600 when it is created).
fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content)
}

/// Writes the letters not printed yet (of one municipality, or all), at most
/// `limit` of them: the use case gives each batch, both cores render it.
async fn print(
    service: &Service,
    who: &Actor,
    run: &PrintRun<'_>,
    out: &Path,
    font: &Path,
    limit: Option<u64>,
) -> Result<()> {
    let font = load_font(font)?;
    // The letters carry My Numbers: the directory and the files are the owner's only.
    maina_store::create_private_dir(out).with_context(|| format!("creating {}", out.display()))?;
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
        let count = u32::try_from((limit - printed).min(256)).unwrap_or(256);
        let letters = service.pending_notices(who, run, after, count).await?;
        let Some(last) = letters.last() else { break };
        after = last.resident_key;
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
                            .map(|pending| render(&font, &pending.letter))
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
        for (pending, pdf) in letters.iter().zip(rendered) {
            let path = out.join(format!("{}.pdf", pending.resident_code.as_digits()));
            write_private(&path, &pdf?).with_context(|| format!("writing {}", path.display()))?;
            service.notice_printed(who, pending.resident_key).await?;
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
