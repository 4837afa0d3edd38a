//! maina's benchmarks, behind `maina bench ...`: each prints its figure beside a
//! ceiling (the same work with maina's checks taken out) and asserts nothing.
//!
//! A crate of its own so that the production crates carry no benchmark code: only
//! the CLI depends on it. It holds the bare routers the HTTP ceilings are measured
//! with, and the synthetic residents the benchmarks (and `maina demo`) register.

mod card;
mod http;
mod inquiry;
mod load;
mod manufacture;
mod numbering;
mod pickup;
mod revocation;
mod scratch;
mod signin;
pub mod synth;
mod verify_signature;

use clap::Subcommand;

pub use load::{bare_inquiry_router, bare_router, serve_router};

/// Why a benchmark could not run to the end.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] maina_store::StoreError),
    #[error(transparent)]
    Pki(#[from] maina_pki::PkiError),
    #[error(transparent)]
    Reader(#[from] maina_reader::ReaderError),
    #[error(transparent)]
    Serve(#[from] maina_server::ServeError),
    #[error(transparent)]
    Id(#[from] maina_core::IdError),
    #[error(transparent)]
    Field(#[from] maina_core::FieldError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// A precondition or a result the benchmark refuses (said in full).
    #[error("{0}")]
    Refused(String),
    /// An outside tool (wrk, openssl) could not run or gave no figure.
    #[error("{0}")]
    Tool(String),
}

pub type Result<T, E = BenchError> = std::result::Result<T, E>;

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
    /// The pickup counter: N cards made ready, then for each the PINs set on the
    /// chip by APDUs and the hand-over (certificates issued, written to the chip,
    /// recorded in one transaction); prints p50 and p99 of each.
    Pickup {
        #[arg(long, default_value_t = 200)]
        cards: u64,
    },
    /// The card bureau's job end to end on N approved applications (chips with two
    /// RSA-2048 keys generated inside, faces rendered, sealed, stored, shipments
    /// written), beside the bare RSA-2048 key generation rate on all cores (the
    /// ceiling at two keys a card); prints cards/s, the ratio and the peak RSS.
    Manufacture {
        #[arg(long, default_value_t = 10_000)]
        cards: u64,
        /// Cards per transaction and shipment.
        #[arg(long, default_value_t = 200)]
        batch: usize,
    },
    /// Suspensions through the HTTP API with the authentication CRL already listing
    /// N revoked serials: suspensions/s, and the latency from each suspension's
    /// answer to the first OCSP *revoked (certificateHold)* and to the first delta
    /// CRL listing it (p50, p99).
    Revocation {
        /// Cards to suspend.
        #[arg(long, default_value_t = 5000)]
        cards: u64,
        /// Revoked serials already on the CRL.
        #[arg(long, default_value_t = 1_000_000)]
        revoked: u64,
        /// Suspensions asked per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
    },
    /// Complete sign-ins with the card through the OpenID Connect provider's use
    /// cases (authorization request, the card's answer checked against the store,
    /// code, token exchange with PKCE, ID token), on a store of N cards and a CRL of
    /// M revoked serials: sign-ins/s, p50/p99 of a sign-in's server time, beside
    /// the bare RSA-2048 verify rate.
    Signin {
        /// Filler cards (active, each with two certificates) in the store.
        #[arg(long, default_value_t = 1_000_000)]
        cards: u64,
        /// Revoked serials on the authentication CRL.
        #[arg(long, default_value_t = 1_000_000)]
        revoked: u64,
        /// Sign-ins to time.
        #[arg(long, default_value_t = 20_000)]
        signins: u64,
        /// Concurrent clients (one real card each).
        #[arg(long, default_value_t = 64)]
        clients: usize,
    },
    /// CMS signature verifications through the signature-verification service's
    /// use case, in process, with the certificate's status from the store:
    /// verifications/s, beside the bare RSA-2048 verify rate and the ratio.
    VerifySignature {
        /// Filler cards (active, each with two certificates) in the store.
        #[arg(long, default_value_t = 100_000)]
        cards: u64,
        /// Signers (a resident, a signature certificate, a signature each).
        #[arg(long, default_value_t = 64)]
        signers: usize,
        /// Verifications to time.
        #[arg(long, default_value_t = 20_000)]
        verifications: u64,
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

/// Runs one benchmark. `database` is the command line's `--db`: benchmarks that
/// store rows make their own SQLite file, or fill this PostgreSQL database (which
/// must be one for benchmarks).
pub async fn run(command: BenchCommand, database: Option<&str>) -> Result<()> {
    match command {
        BenchCommand::Numbering {
            residents,
            batch,
            no_ceiling,
        } => numbering::run(database, residents, batch.max(1), no_ceiling).await,
        BenchCommand::Http {
            residents,
            seconds,
            connections,
        } => http::run(database, residents, load(seconds, connections)).await,
        BenchCommand::Inquiry {
            applications,
            seconds,
            connections,
        } => inquiry::run(database, applications, load(seconds, connections)).await,
        BenchCommand::Manufacture { cards, batch } => {
            manufacture::run(database, cards, batch).await
        }
        BenchCommand::Auth { revoked, seconds } => card::auth(revoked, seconds.max(1)),
        BenchCommand::Pickup { cards } => pickup::run(database, cards.max(1)).await,
        BenchCommand::Revocation {
            cards,
            revoked,
            rate,
            clients,
        } => revocation::run(database, cards.max(1), revoked, rate.max(1), clients).await,
        BenchCommand::Signin {
            cards,
            revoked,
            signins,
            clients,
        } => signin::run(database, cards, revoked, signins.max(1), clients.max(1)).await,
        BenchCommand::VerifySignature {
            cards,
            signers,
            verifications,
        } => verify_signature::run(database, cards, signers, verifications.max(1)).await,
        BenchCommand::Apdu { count, reader } => card::apdu(count.max(1), reader.as_deref()),
    }
}

/// The load of an HTTP benchmark (at least a second, at least one connection).
fn load(seconds: u64, connections: u32) -> load::Load {
    load::Load {
        seconds: seconds.max(1),
        connections: connections.max(1),
    }
}

/// The benchmarks' municipality (Chiyoda City, as the demo's).
const MUNICIPALITY: &str = "131016";

/// The actor recorded for the benchmarks' writes.
fn bench_actor() -> maina_core::officer::Actor {
    maina_core::officer::Actor::administrator("bench", "benchmark")
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
