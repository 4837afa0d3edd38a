//! `maina card notes|face|move-out|move-in|continued-use|end-overdue`: the card and
//! the registry's changes (the notes panel, the face with its notes), moving
//! between municipalities with the card (転入届の特例), continued use (継続利用), and
//! the job that ends overdue cards, for cron. Each calls one service use case.

use crate::context::Context;
use anyhow::Result;
use maina_proto::{CardMoveResponse, ContinuedUseRequest, MoveInRequest, MoveOutRequest};
use maina_service::notice::{load_font, DEFAULT_FONT};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct NotesArgs {
    pub card_id: String,
    /// en | ja
    #[arg(long, default_value = "en")]
    pub lang: String,
}

#[derive(clap::Args, Debug)]
pub struct FaceArgs {
    pub card_id: String,
    /// Where to write the face (card-size PDF, front and back).
    #[arg(long)]
    pub out: PathBuf,
    /// A font with Japanese glyphs.
    #[arg(long, default_value = DEFAULT_FONT)]
    pub font: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct MoveOutArgs {
    pub card_id: String,
    /// The new municipality's local government code.
    #[arg(long = "to")]
    pub destination: String,
    /// The planned move, YYYY-MM-DD (within 14 days of today).
    #[arg(long)]
    pub planned: String,
    #[arg(long, default_value = "en")]
    pub lang: String,
}

#[derive(clap::Args, Debug)]
pub struct MoveInArgs {
    pub card_id: String,
    /// The new address.
    #[arg(long)]
    pub address: String,
    /// The actual move, YYYY-MM-DD [default: today].
    #[arg(long)]
    pub moved_on: Option<String>,
    #[arg(long, default_value = "en")]
    pub lang: String,
}

#[derive(clap::Args, Debug)]
pub struct ContinuedUseArgs {
    pub card_id: String,
    /// The card number printed on the card (the card is present).
    #[arg(long)]
    pub card_number: String,
    #[arg(long, default_value = "en")]
    pub lang: String,
}

fn print_move(answer: &CardMoveResponse) {
    println!("card {}: {}", answer.card_id, answer.state);
    println!("{}", answer.message);
}

pub async fn notes(context: &Context, args: NotesArgs) -> Result<()> {
    context
        .with_service(async |service| {
            let notes = service
                .card_notes(&context.who(), &args.card_id, &args.lang)
                .await?;
            println!("card {}: notes panel (追記欄)", notes.card_id);
            for (i, entry) in notes.entries.iter().enumerate() {
                println!(
                    "{}. {} ({}) {}: {}",
                    i + 1,
                    entry.date,
                    entry.printed_date,
                    entry.label,
                    entry.text
                );
            }
            println!("lines used: {} of {}", notes.lines_used, notes.lines);
            if notes.full {
                println!("the panel is full: the card must be reissued (free of charge)");
            }
            println!("signature certificate: {}", notes.signature_certificate);
            Ok(())
        })
        .await
}

pub async fn face(context: &Context, args: FaceArgs) -> Result<()> {
    let font = load_font(&args.font)?;
    context
        .with_service(async |service| {
            let pdf = service
                .card_face_with_notes(&context.who(), &args.card_id, &font)
                .await?;
            std::fs::write(&args.out, pdf)?;
            println!("card face written to {}", args.out.display());
            Ok(())
        })
        .await
}

pub async fn move_out(context: &Context, args: MoveOutArgs) -> Result<()> {
    let request = MoveOutRequest {
        card_id: args.card_id,
        destination: args.destination,
        planned_date: args.planned,
    };
    context
        .with_service(async |service| {
            let answer = service
                .move_out_with_card(&context.who(), &request, &args.lang)
                .await?;
            print_move(&answer);
            Ok(())
        })
        .await
}

pub async fn move_in(context: &Context, args: MoveInArgs) -> Result<()> {
    let request = MoveInRequest {
        card_id: args.card_id,
        address: args.address,
        moved_on: args.moved_on,
    };
    context
        .with_service(async |service| {
            let answer = service
                .move_in_with_card(&context.who(), &request, &args.lang)
                .await?;
            print_move(&answer);
            Ok(())
        })
        .await
}

pub async fn continued_use(context: &Context, args: ContinuedUseArgs) -> Result<()> {
    let request = ContinuedUseRequest {
        card_id: args.card_id,
        card_number: args.card_number,
    };
    context
        .with_service(async |service| {
            let answer = service
                .confirm_continued_use(&context.who(), &request, &args.lang)
                .await?;
            print_move(&answer);
            Ok(())
        })
        .await
}

pub async fn end_overdue(context: &Context) -> Result<()> {
    context
        .with_service(async |service| {
            let ended = service
                .end_overdue_cards(&context.who(), maina_service::today())
                .await?;
            println!(
                "{} card(s) voided (move deadlines), {} card(s) abolished (period of stay ended)",
                ended.voided, ended.stay_ended
            );
            Ok(())
        })
        .await
}
