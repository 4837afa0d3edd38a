//! `maina`: the command line of the My Number registry. This file parses the
//! command line and hands each command to its module under `commands/`.

mod commands;
mod context;
mod logging;

use clap::{Parser, Subcommand};
use commands::{
    audit, card, demo, init, keys, municipality, notice, number, office, officer, oidc, pickup,
    pki, resident, serve, verifier, verify,
};
use context::Context;
use std::path::PathBuf;

/// mimalloc instead of glibc's allocator: the registry's bulk paths allocate on
/// producer threads and free on the writer, where glibc's per-thread arenas spend a
/// quarter of the time (measured with perf on `bench numbering`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// maina — Japan's My Number system: identifiers, the resident registry, the card.
#[derive(Parser, Debug)]
#[command(name = "maina", version, about = "maina — Japan's My Number system: identifiers, the resident registry, the card", long_about = None)]
struct Cli {
    /// Data directory: key file and the embedded SQLite database.
    #[arg(
        long,
        global = true,
        env = "MAINA_DATA",
        default_value = "./maina-data"
    )]
    data: PathBuf,
    /// Database URL (sqlite://PATH or postgres://...); default: the SQLite file in the data directory.
    #[arg(long, global = true, env = "MAINA_DATABASE_URL")]
    db: Option<String>,
    /// Who is acting, recorded with every change and read.
    #[arg(long, global = true, env = "MAINA_ACTOR", default_value = "cli")]
    actor: String,
    /// Why (recorded in the audit trail with every change and read).
    #[arg(
        long,
        global = true,
        env = "MAINA_PURPOSE",
        default_value = "administration"
    )]
    purpose: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the data directory, the key file and the database.
    Init,
    /// Run the HTTP server.
    Serve(serve::ServeArgs),
    /// Create a demo registry (a municipality and a few hundred residents) and serve it.
    Demo(demo::DemoArgs),
    /// Municipalities of the registry.
    #[command(subcommand)]
    Municipality(municipality::MunicipalityCommand),
    /// The resident registry.
    #[command(subcommand)]
    Resident(Box<resident::ResidentCommand>),
    /// My Numbers.
    #[command(subcommand)]
    Number(number::NumberCommand),
    /// Officer accounts (bound to a municipality, with a role).
    #[command(subcommand)]
    Officer(officer::OfficerCommand),
    /// The hash-chained audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The data key: rotate it, see which key seals how many values.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// My Number cards: make, list, show, attach to a reader; their life (history,
    /// suspension and lift, reissue and renewal, expiry letters, PIN reset, the chip's
    /// facts, certificates renewed, notes panel, moves); read, sign and authenticate
    /// with any card in a PC/SC reader, and sign in with it to a relying party.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Individual Number Notices: print the letters, track them as registered mail.
    #[command(subcommand)]
    Notice(notice::NoticeCommand),
    /// The office where cards are collected: show, set, the day's appointments,
    /// the reminders.
    #[command(subcommand)]
    Office(office::OfficeCommand),
    /// The municipality's side of the card's path: receive shipments, issue
    /// notices, cards never collected.
    #[command(subcommand)]
    Pickup(pickup::PickupCommand),
    /// The card authorities (CRLs, CA certificates).
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Relying parties of the OpenID Connect provider (sign-in with the card).
    #[command(subcommand)]
    Rp(oidc::RpCommand),
    /// The OpenID Connect provider's signing keys.
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
    /// Check a signature made by `maina card sign` (CMS, signed PDF or the old PEM
    /// pair): signature, chain, validity and revocation.
    Verify(verify::VerifyArgs),
    /// Signature verifiers (署名検証者): relying parties of the signature-verification API.
    #[command(subcommand)]
    Verifier(verifier::VerifierCommand),
    /// Benchmarks (print figures; not tests).
    #[command(subcommand)]
    Bench(maina_bench::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The server sets up logging itself, in the format its configuration names.
    if !matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        logging::init(maina_server::LogFormat::Text);
    }
    let context = Context {
        data: cli.data,
        db: cli.db,
        actor: cli.actor,
        purpose: cli.purpose,
    };
    match cli.command {
        Command::Init => init::run(&context).await,
        Command::Serve(args) => serve::run(&context, &args).await,
        Command::Demo(args) => demo::run(&context, &args).await,
        Command::Municipality(command) => municipality::run(&context, command).await,
        Command::Resident(command) => resident::run(&context, *command).await,
        Command::Number(command) => number::run(&context, command).await,
        Command::Officer(command) => officer::run(&context, command).await,
        Command::Audit(command) => audit::run(&context, command).await,
        Command::Keys(command) => keys::run(&context, command).await,
        Command::Card(command) => card::run(&context, command).await,
        Command::Notice(command) => notice::run(&context, command).await,
        Command::Office(command) => office::run(&context, command).await,
        Command::Pickup(command) => pickup::run(&context, command).await,
        Command::Pki(command) => pki::run(&context, command).await,
        Command::Rp(command) => oidc::run_rp(&context, command).await,
        Command::Oidc(command) => oidc::run_oidc(&context, command).await,
        Command::Verifier(command) => verifier::run(&context, command).await,
        Command::Verify(args) => verify::run(&context, &args).await,
        Command::Bench(command) => Ok(maina_bench::run(command, context.db.as_deref()).await?),
    }
}
