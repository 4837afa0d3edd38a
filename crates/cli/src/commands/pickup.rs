//! `maina pickup ...`: the municipality's side of a card's path to its resident —
//! receiving the bureau's shipments, the issue notices, the cards never collected.

use super::pickup_counter;
use crate::context::Context;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use maina_core::{CardNumber, MunicipalityCode};
use maina_service::notice::{load_font, DEFAULT_FONT};
use maina_service::pickup::issue::NoticeRun;
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PickupCommand {
    /// List the shipments to a municipality (received or not).
    Shipments {
        #[arg(long)]
        municipality: String,
    },
    /// Receive a shipment: the card numbers counted (scanned), one per line, from
    /// FILE or standard input, must be exactly the manifest's; otherwise nothing is
    /// received and the missing and extra cards are named.
    Receive {
        shipment: u64,
        /// The card numbers counted, one per line ("-" or absent: standard input).
        #[arg(long)]
        counted: Option<PathBuf>,
    },
    /// Make the issue notices (交付通知書) of the municipality's received cards and
    /// write every notice not yet printed (reminders too) as a PDF into DIR;
    /// residents with an e-mail address also get theirs by e-mail.
    Notices {
        #[arg(long)]
        municipality: String,
        /// Where the PDFs go.
        #[arg(long)]
        out: PathBuf,
        /// The public booking page's address, printed and in the QR code.
        #[arg(long, env = "MAINA_PUBLIC_URL")]
        public_url: String,
        /// The font the notices embed.
        #[arg(long, default_value = DEFAULT_FONT)]
        font: PathBuf,
    },
    /// The never-collected job (for cron; `maina serve` runs it too): reminders due,
    /// then cards due for destruction (keys wiped, the application closed).
    Expire,
    /// Hand a card over at the counter: the four PINs are read from standard input
    /// (one per line: auth, sign, residence, support) and set on the chip, the
    /// documents checked, the certificates issued. Prints the card id.
    HandOver(Box<pickup_counter::HandOverArgs>),
}

fn municipality(code: &str) -> Result<MunicipalityCode> {
    code.parse().map_err(|e| anyhow!("municipality: {e}"))
}

pub async fn run(context: &Context, command: PickupCommand) -> Result<()> {
    match command {
        PickupCommand::HandOver(args) => pickup_counter::hand_over(context, *args).await,
        PickupCommand::Shipments { municipality: code } => {
            let code = municipality(&code)?;
            context
                .with_service(async |service| {
                    for shipment in service.shipments(&context.who(), &code).await? {
                        let numbers: Vec<&str> = shipment
                            .manifest
                            .iter()
                            .map(|entry| entry.card_number.as_str())
                            .collect();
                        let state = match shipment.received_at {
                            Some(at) => format!(
                                "received {}",
                                super::format_micros(at, "%Y-%m-%d %H:%M UTC")
                            ),
                            None => "in transit".into(),
                        };
                        println!(
                            "shipment {}: {} card(s), {state}: {}",
                            shipment.id,
                            shipment.card_count,
                            numbers.join(" ")
                        );
                    }
                    Ok(())
                })
                .await
        }
        PickupCommand::Receive { shipment, counted } => {
            let mut text = String::new();
            match counted.as_deref() {
                Some(path) if path.as_os_str() != "-" => {
                    text = std::fs::read_to_string(path)
                        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
                }
                _ => {
                    std::io::stdin().read_to_string(&mut text)?;
                }
            }
            let numbers = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .enumerate()
                .map(|(index, line)| {
                    line.parse::<CardNumber>()
                        .map_err(|e| anyhow!("counted line {}: {e}", index + 1))
                })
                .collect::<Result<Vec<_>>>()?;
            context
                .with_service(async |service| {
                    let received = service
                        .receive_shipment(&context.who(), shipment, &numbers)
                        .await?;
                    println!(
                        "shipment {} received: {} card(s) checked against the manifest",
                        received.id, received.card_count
                    );
                    Ok(())
                })
                .await
        }
        PickupCommand::Notices {
            municipality: code,
            out,
            public_url,
            font,
        } => {
            let code = municipality(&code)?;
            let font = load_font(&font)?;
            std::fs::create_dir_all(&out)?;
            context
                .with_service(async |service| {
                    let run = NoticeRun {
                        municipality: code,
                        font: &font,
                        booking_url: format!("{}/pickup/book", public_url.trim_end_matches('/')),
                        out_dir: Some(&out),
                        today: super::today(),
                    };
                    let printed = service.issue_notices(&context.who(), &run).await?;
                    for notice in &printed {
                        if let Some(file) = &notice.file {
                            println!(
                                "{}{} {}",
                                if notice.reminder { "reminder " } else { "" },
                                notice.number.as_digits(),
                                file.display()
                            );
                        }
                    }
                    println!("{} notice(s) written to {}", printed.len(), out.display());
                    Ok(())
                })
                .await
        }
        PickupCommand::Expire => {
            context
                .with_service(async |service| {
                    let report = service
                        .expire_uncollected(&context.who(), maina_store::now_micros())
                        .await?;
                    println!(
                        "{} reminder(s) sent, {} card(s) destroyed",
                        report.reminded, report.destroyed
                    );
                    Ok(())
                })
                .await
        }
    }
}
