//! `maina card reissue` (a new card replacing an old one, with the fee taken),
//! `maina card renewal-window` and `maina card expiring` (the expiry letters, for
//! cron; `maina serve` runs it daily). Each calls one service use case.

use crate::context::Context;
use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use maina_core::card::Lookahead;
use maina_core::MunicipalityCode;
use maina_service::card_life::expiry::ExpiryRun;
use maina_service::notice::{load_font, DEFAULT_FONT};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReissueArgs {
    /// The card replaced (16 hexadecimal digits).
    card_id: String,
    /// lost | damaged | notes-full | expiry (the renewal, from 3 months before the
    /// card's end)
    #[arg(long)]
    reason: String,
    /// The fee taken, in yen: exactly the fee due (1000, or 800 with
    /// --no-certificates) for lost or damaged; none for expiry or notes-full.
    #[arg(long)]
    fee_paid: Option<u32>,
    /// The new card gets no electronic certificates.
    #[arg(long)]
    no_certificates: bool,
    /// A card lost outside home: the police report's receipt number ...
    #[arg(long)]
    police_receipt: Option<String>,
    /// ... and the police station.
    #[arg(long)]
    police_station: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ExpiringArgs {
    /// How far ahead to look: 3m, 90d, 2w (the letters go out 2–3 months before).
    #[arg(long, default_value = "3m")]
    within: String,
    /// Where the PDFs go.
    #[arg(long)]
    out: PathBuf,
    /// The public address; the letters' QR code is its online application page.
    #[arg(long, env = "MAINA_PUBLIC_URL")]
    public_url: String,
    /// Only this municipality's residents (6-digit local government code).
    #[arg(long)]
    municipality: Option<String>,
    /// The letters' date, YYYY-MM-DD [default: today] (to catch up a missed run).
    #[arg(long)]
    today: Option<String>,
    /// The font the letters embed.
    #[arg(long, default_value = DEFAULT_FONT)]
    font: PathBuf,
}

pub async fn reissue(context: &Context, args: ReissueArgs) -> Result<()> {
    let request = maina_proto::ReissueRequest {
        card_id: args.card_id,
        reason: args.reason,
        with_certificates: !args.no_certificates,
        fee_paid_yen: args.fee_paid,
        police_receipt_number: args.police_receipt,
        police_station: args.police_station,
    };
    context
        .with_service(async |service| {
            let done = service
                .reissue_card(&context.who(), &request, super::today())
                .await?;
            println!(
                "application {} received for a new card replacing {} ({}); receipt number {}",
                done.application_id, done.old_card_id, done.reason, done.receipt_number
            );
            println!(
                "fee: card ¥{} + certificates ¥{}; the old card is {} until the new one is handed over",
                done.card_fee_yen, done.certificates_fee_yen, done.old_card_state
            );
            Ok(())
        })
        .await
}

pub async fn renewal_window(context: &Context, card_id: String) -> Result<()> {
    context
        .with_service(async |service| {
            let window = service
                .renewal_window(&context.who(), &card_id, super::today())
                .await?;
            println!(
                "card {} ends on {}; renewal from {} ({})",
                window.card_id,
                window.expires_on,
                window.opens_on,
                if window.open { "open now" } else { "not yet" }
            );
            Ok(())
        })
        .await
}

pub async fn expiring(context: &Context, args: ExpiringArgs) -> Result<()> {
    let within: Lookahead = args.within.parse().map_err(|e| anyhow!("--within: {e}"))?;
    let today = match &args.today {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| anyhow!("--today: {text:?} is not a date (YYYY-MM-DD)"))?,
        None => super::today(),
    };
    let municipality = args
        .municipality
        .as_deref()
        .map(|code| {
            code.parse::<MunicipalityCode>()
                .map_err(|e| anyhow!("--municipality: {e}"))
        })
        .transpose()?;
    let font = load_font(&args.font)?;
    std::fs::create_dir_all(&args.out)?;
    let run = ExpiryRun {
        font: &font,
        apply_url: format!("{}/apply", args.public_url.trim_end_matches('/')),
        out_dir: &args.out,
        today,
        within,
        municipality,
    };
    context
        .with_service(async |service| {
            let written = service.write_expiry_letters(&context.who(), &run).await?;
            for letter in &written {
                println!(
                    "card {} {} ends {} form {} {}",
                    letter.card_id,
                    letter.ends.code(),
                    letter.ends_on,
                    letter.form_id.as_digits(),
                    letter.file.display()
                );
            }
            println!(
                "{} expiry letter(s) written to {}",
                written.len(),
                args.out.display()
            );
            Ok(())
        })
        .await
}
