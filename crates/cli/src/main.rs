//! `maina`: the command line of the My Number registry.

mod bench;
mod bench_card;
mod card;
mod import;
mod notice;
mod officer;
mod resident;
mod synth;

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};
use maina_core::MunicipalityCode;
use maina_store::{Keys, Municipality, Store};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    Serve(ServeArgs),
    /// Create a demo registry (a municipality and a few hundred residents) and serve it.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// How many synthetic residents to register (only into an empty registry).
        #[arg(long, default_value_t = 300)]
        residents: u64,
        /// Create the demo data and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Municipalities of the registry.
    #[command(subcommand)]
    Municipality(MunicipalityCommand),
    /// The resident registry.
    #[command(subcommand)]
    Resident(Box<resident::ResidentCommand>),
    /// My Numbers.
    #[command(subcommand)]
    Number(resident::NumberCommand),
    /// Officer accounts (bound to a municipality, with a role).
    #[command(subcommand)]
    Officer(officer::OfficerCommand),
    /// The hash-chained audit trail.
    #[command(subcommand)]
    Audit(officer::AuditCommand),
    /// My Number cards: make, list, show, revoke, attach to a reader; read, sign and
    /// authenticate with any card in a PC/SC reader.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Individual Number Notices: print the letters, track them as registered mail.
    #[command(subcommand)]
    Notice(notice::NoticeCommand),
    /// The card authorities (CRLs, CA certificates).
    #[command(subcommand)]
    Pki(card::PkiCommand),
    /// Check a detached signature made by `maina card sign`: signature, chain,
    /// validity and revocation.
    Verify {
        /// The signed file.
        file: std::path::PathBuf,
        /// The signature [default: FILE.sig].
        #[arg(long)]
        signature: Option<std::path::PathBuf>,
    },
    /// Benchmarks (print figures; not tests).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Server settings: flags and environment override the TOML file, which overrides
/// the defaults.
#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (keys: listen, log_format, max_body_bytes,
    /// session_minutes, secure_cookies, login_attempts_per_minute, smtp_url,
    /// smtp_ca_file, mail_from, mail_retry_seconds, public_url, booth_keys,
    /// office_contacts).
    #[arg(long, env = "MAINA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "MAINA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "MAINA_LOG_FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Send cookies without the Secure flag (plain-HTTP testing only).
    #[arg(long)]
    insecure_cookies: bool,
    /// Mail server: smtps://user:password@host:465, smtp://user:password@host:587?tls=required
    /// (STARTTLS) or smtp://host:25 (plain relay). The environment keeps the password
    /// out of files and process lists.
    #[arg(long, env = "MAINA_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// PEM file of the CA that signed the mail server's certificate, when the system
    /// does not trust it.
    #[arg(long, env = "MAINA_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
}

/// By hand, so that the password in `--smtp-url` never reaches a debug print.
impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("log_format", &self.log_format)
            .field("insecure_cookies", &self.insecure_cookies)
            .field(
                "smtp_url",
                &self
                    .smtp_url
                    .as_deref()
                    .map(maina_server::mail::redact_smtp_url),
            )
            .field("smtp_ca_file", &self.smtp_ca_file)
            .finish()
    }
}

impl ServeArgs {
    fn config(&self) -> Result<maina_server::ServerConfig> {
        let mut config = match &self.config {
            Some(path) => maina_server::ServerConfig::from_file(path)?,
            None => maina_server::ServerConfig::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        match self.log_format.as_deref() {
            Some("json") => config.log_format = maina_server::LogFormat::Json,
            Some("text") => config.log_format = maina_server::LogFormat::Text,
            _ => {}
        }
        if self.insecure_cookies {
            config.secure_cookies = false;
        }
        if let Some(url) = &self.smtp_url {
            config.smtp_url = Some(url.clone());
        }
        if let Some(path) = &self.smtp_ca_file {
            config.smtp_ca_file = Some(path.clone());
        }
        config
            .check()
            .map_err(|message| anyhow::anyhow!("{message}"))?;
        Ok(config)
    }
}

#[derive(Subcommand, Debug)]
enum MunicipalityCommand {
    /// Add a municipality (or rename one).
    Add {
        /// The 6-digit local government code, e.g. 131016.
        code: String,
        /// Name in Japanese, e.g. 千代田区.
        #[arg(long)]
        name_ja: String,
        /// Name in English, e.g. "Chiyoda City".
        #[arg(long)]
        name_en: String,
    },
    /// List the municipalities.
    List,
}

/// Paths and settings shared by every command.
pub struct Context {
    pub data: PathBuf,
    pub db: Option<String>,
    pub actor: String,
    pub purpose: String,
}

impl Context {
    /// The command line's actor: the local administrator (who holds the key file).
    pub fn who(&self) -> maina_core::officer::Actor {
        maina_core::officer::Actor::administrator(&self.actor, &self.purpose)
    }

    pub fn key_path(&self) -> PathBuf {
        self.data.join("keys").join("master.key")
    }

    pub fn db_url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| maina_store::sqlite_url(&self.data.join("maina.sqlite3")))
    }

    /// Opens the store of an initialised data directory.
    pub async fn open(&self) -> Result<Store> {
        let key_path = self.key_path();
        if !key_path.exists() {
            bail!(
                "no key file at {}: run `maina init` (or `maina --data DIR init`) first",
                key_path.display()
            );
        }
        let keys = Keys::load(&key_path)?;
        Store::open(&self.db_url(), &keys)
            .await
            .with_context(|| format!("opening the database {}", redact_url(&self.db_url())))
    }

    /// Creates the data directory, the key file and the database.
    pub async fn init(&self) -> Result<Store> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating the data directory {}", self.data.display()))?;
        let keys = Keys::create(&self.key_path())?;
        Ok(Store::open(&self.db_url(), &keys).await?)
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = url.get(scheme + 3..at).unwrap_or("");
            let user = credentials.split(':').next().unwrap_or("");
            format!(
                "{}{}@{}",
                url.get(..scheme + 3).unwrap_or(""),
                user,
                url.get(at + 1..).unwrap_or("")
            )
        }
        _ => url.to_string(),
    }
}

fn init_logging(format: maina_server::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAINA_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,sqlx=error,maina=info,maina_server=info,tower_http=info",
        )
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        maina_server::LogFormat::Json => builder.json().try_init(),
        maina_server::LogFormat::Text => builder.try_init(),
    };
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

async fn run(cli: Cli) -> Result<()> {
    if !matches!(cli.command, Command::Serve(_) | Command::Demo { .. }) {
        init_logging(maina_server::LogFormat::Text);
    }
    let context = Context {
        data: cli.data,
        db: cli.db,
        actor: cli.actor,
        purpose: cli.purpose,
    };
    match cli.command {
        Command::Init => {
            let store = context.init().await?;
            println!("initialised {}", context.data.display());
            card::init_authorities(&context)?;
            println!(
                "  key file: {} (keep it safe and out of backups of the database)",
                context.key_path().display()
            );
            println!(
                "  database: {} ({})",
                redact_url(&context.db_url()),
                store.backend().name()
            );
            store.close().await;
            Ok(())
        }
        Command::Serve(args) => {
            let config = args.config()?;
            serve(&context, &context.open().await?, config).await
        }
        Command::Demo {
            serve: args,
            residents,
            no_serve,
        } => {
            let config = args.config()?;
            let store = demo(&context, residents).await?;
            if no_serve {
                store.close().await;
                return Ok(());
            }
            serve(&context, &store, config).await
        }
        Command::Municipality(command) => {
            let store = context.open().await?;
            match command {
                MunicipalityCommand::Add {
                    code,
                    name_ja,
                    name_en,
                } => {
                    let code: MunicipalityCode = code.parse().context("code")?;
                    let name_ja = maina_core::person::clean_text("name_ja", &name_ja, 100)?;
                    let name_en = maina_core::person::clean_text("name_en", &name_en, 100)?;
                    store
                        .put_municipality(&Municipality {
                            code,
                            name_ja,
                            name_en,
                        })
                        .await?;
                    println!("municipality {} saved", code.as_digits());
                }
                MunicipalityCommand::List => {
                    for m in store.municipalities().await? {
                        println!("{}  {}  {}", m.code.as_digits(), m.name_ja, m.name_en);
                    }
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Resident(command) => resident::run(&context, *command).await,
        Command::Number(command) => resident::run_number(&context, command).await,
        Command::Officer(command) => officer::run(&context, command).await,
        Command::Audit(command) => officer::run_audit(&context, command).await,
        Command::Bench(command) => bench::run(&context, command).await,
        Command::Card(command) => card::run(&context, command).await,
        Command::Pki(command) => card::run_pki(&context, command).await,
        Command::Notice(command) => notice::run(&context, command).await,
        Command::Verify { file, signature } => {
            let signature = signature.unwrap_or_else(|| {
                let mut name = file.as_os_str().to_owned();
                name.push(".sig");
                std::path::PathBuf::from(name)
            });
            card::verify(&context, &file, &signature).await
        }
    }
}

async fn serve(context: &Context, store: &Store, config: maina_server::ServerConfig) -> Result<()> {
    init_logging(config.log_format);
    let listen = config.listen;
    let mut state = maina_server::AppState::new(store.clone(), config);
    if maina_pki::Authorities::exist(&card::pki_dir(context)) {
        state = state.with_authorities(card::load_authorities(context)?);
    } else {
        tracing::warn!(
            "no card authorities in the data directory: CRLs and OCSP are off (maina pki init)"
        );
    }
    let backend = store.backend().name();
    maina_server::serve(listen, state, shutdown_signal(), |addr| {
        println!("maina listening on http://{addr} ({backend})");
    })
    .await?;
    store.close().await;
    println!("maina stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The demo officers' password (demo data only).
const DEMO_PASSWORD: &str = "demo password 2026";

/// The demo municipality: Chiyoda City, Tokyo.
pub const DEMO_MUNICIPALITY: &str = "131016";

async fn demo(context: &Context, residents: u64) -> Result<Store> {
    let store = if context.key_path().exists() {
        context.open().await?
    } else {
        context.init().await?
    };
    if !maina_pki::Authorities::exist(&card::pki_dir(context)) {
        card::init_authorities(context)?;
    }
    let code: MunicipalityCode = DEMO_MUNICIPALITY.parse()?;
    store
        .put_municipality(&Municipality {
            code,
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await?;
    if store.resident_count().await? == 0 {
        let today = chrono::Local::now().date_naive();
        let rows = (0..residents)
            .map(|i| {
                synth::resident(i, DEMO_MUNICIPALITY)
                    .parse(today)
                    .map(|r| (i + 1, r))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let keys = store.reserve_resident_keys(rows.len() as u64).await?;
        let sealed = store.seal_registrations(keys, rows)?;
        let outcomes = store.insert_sealed(sealed, None, &context.who()).await?;
        let registered = outcomes.iter().filter(|o| o.is_ok()).count();
        store.merge_search_index().await?;
        println!(
            "demo: registered {registered} residents in {} (千代田区)",
            code.as_digits()
        );
    }
    if store.officers().await?.is_empty() {
        let who = context.who();
        for (name, role) in [
            ("demo-registrar", maina_core::officer::Role::Registrar),
            ("demo-supervisor", maina_core::officer::Role::Supervisor),
            ("demo-auditor", maina_core::officer::Role::Auditor),
        ] {
            store
                .add_officer(&name.parse()?, role, code, DEMO_PASSWORD, &who)
                .await?;
        }
        println!("demo officers: demo-registrar, demo-supervisor, demo-auditor (password: {DEMO_PASSWORD})");
    }
    println!("demo data in {}", path_display(&context.data));
    Ok(store)
}

fn path_display(path: &Path) -> String {
    path.display().to_string()
}
