//! `maina card manufacture`: the card bureau's bulk job (approved applications become
//! cards, shipped to their municipality), with a progress bar; safe to kill and run
//! again.

use crate::context::Context;
use anyhow::{anyhow, Result};
use indicatif::{ProgressBar, ProgressStyle};
use maina_core::MunicipalityCode;
use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
use maina_service::notice::{load_font, DEFAULT_FONT};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ManufactureArgs {
    /// Only this municipality's applications (6-digit local government code).
    #[arg(long)]
    municipality: Option<String>,
    /// Make at most this many cards.
    #[arg(long, default_value_t = usize::MAX, hide_default_value = true)]
    limit: usize,
    /// Cards per transaction and per shipment.
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// The font the card face embeds.
    #[arg(long, default_value = DEFAULT_FONT)]
    font: PathBuf,
}

pub async fn run(context: &Context, args: ManufactureArgs) -> Result<()> {
    let municipality = args
        .municipality
        .as_deref()
        .map(|code| {
            code.parse::<MunicipalityCode>()
                .map_err(|e| anyhow!("municipality: {e}"))
        })
        .transpose()?;
    let font = load_font(&args.font)?;
    context
        .with_store(async |store| {
            let waiting = store
                .count_applications_to_manufacture(municipality.as_ref())
                .await?;
            let total = waiting.min(args.limit as u64);
            let bar = if std::io::stderr().is_terminal() {
                ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{spinner} {bar:40} {pos}/{len} cards {msg} ({eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                )
            } else {
                ProgressBar::hidden()
            };
            let options = ManufactureOptions {
                municipality,
                limit: args.limit,
                batch: args.batch,
                today: japan_today(),
            };
            let report = manufacture(store, &font, &context.who(), &options, |made, rejected| {
                bar.set_position(made as u64);
                if rejected > 0 {
                    bar.set_message(format!("({rejected} rejected)"));
                }
            })
            .await?;
            bar.finish_and_clear();
            for shipment in &report.shipments {
                println!(
                    "shipment {} to {}: {} card(s)",
                    shipment.id, shipment.municipality, shipment.card_count
                );
            }
            for rejected in &report.rejected {
                println!(
                    "rejected application {}: {}",
                    rejected.application_id, rejected.reason
                );
            }
            println!(
                "{} card(s) made in {} shipment(s); {} application(s) rejected",
                report.made,
                report.shipments.len(),
                report.rejected.len()
            );
            Ok(())
        })
        .await
}
