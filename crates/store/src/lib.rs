//! maina's persistence: one repository API over SQLite (the embedded default) and
//! PostgreSQL (production). The repository's SQL and schema are written once; the
//! difference between the two databases (drivers, DDL, locking) lives in `backend`.
//!
//! Privacy by construction: a My Number is never stored. A resident's first number
//! is derived from the resident's row key; a replacement number has a row in
//! `numbers` keyed by its own number key. Personal details are sealed (AES-256-GCM,
//! one format for every table: see `crypto`).
//!
//! Modules by table family: `registry` (municipalities, residents, numbers, the
//! search index, imports), `officers` and `audit`, `applications` (notices,
//! applications, apply links, the outbox), `cards`, `counters`; `bench` (behind the
//! `bench` feature) holds what only the benchmarks use.

/// Builds a record from a database row, reading its fields in column order: the
/// order of the `SELECT` list that fetched it, so no column index is written by
/// hand. `decode_row!(row => Card { id: text, resident_key: opt_key })`, each
/// field named with the [`backend::Row`] reader for its column's type.
macro_rules! decode_row {
    ($row:expr => $record:ident { $($field:ident: $read:ident),* $(,)? }) => {{
        let row = $row;
        let mut columns = 0usize..;
        Ok($record { $($field: row.$read(columns.next().unwrap_or_default())?,)* })
    }};
}

mod applications;
mod audit;
mod backend;
#[cfg(feature = "bench")]
mod bench;
mod card_life;
mod card_notes;
mod cards;
mod chip;
mod counters;
mod crypto;
mod manufacture;
mod officers;
mod oidc;
mod oidc_flow;
mod oidc_replay;
mod oidc_sessions;
pub mod pickup;
mod portal;
mod registry;
mod renewal;
mod renewal_online;
mod signature_verifiers;
mod suspension;
#[cfg(feature = "bench")]
mod suspension_bench;
mod suspension_crl;
mod throttle;

use std::sync::Arc;

pub use applications::{
    ApplicationDetails, ApplicationRecord, ApplyLink, Attachment, Inquiry, Mail, NewApplication,
    NoticeRecord, OutboxMail, APPLY_LINK, RECEIPT_ATTEMPTS,
};
pub use audit::AuditReport;
pub use backend::{now_micros, sqlite_url, Backend, Value};
pub use card_life::CardEventRecord;
pub use card_notes::PANEL_FULL;
pub use cards::{CardRecord, CertificateRecord, NewCertificate, NewCrl, StoredCrl};
pub use crypto::{
    check_owner_only, create_private_dir, KeyError, Keys, ResealStep, SealError, SealFailure,
    SealedCount, Sealer, FIRST_KEY_ID, SEAL_FORMAT,
};
pub use manufacture::{ManifestEntry, ManifestMismatch, ManufacturedCard, ShipmentRecord};
pub use officers::{LoginFailure, Officer, LOCKOUT_THRESHOLD};
pub use oidc::{NewRelyingParty, NewSigningKey, RelyingParty, SigningKeyRecord};
pub use oidc_flow::{
    AnsweredRequest, AuthRequest, CardHolder, CodeGrant, NewAuthRequest, RequestStatus,
    SigninRecord,
};
pub use oidc_sessions::ResidentSessionRecord;
pub use pickup::{CounterCard, HandOverRecord, PinpadSession};
pub use portal::{
    AccessEntry, AccessKind, AccessNotice, AccessNotices, AccessPage, ChainCheck, ConsentRecord,
    NotifyAddress, NotifyPreference, CARD_ACTIONS, NOT_OFFICERS, PORTAL_ACTOR, RESIDENT_ACTIONS,
};
pub use registry::*;
pub use renewal::{NearingEnd, NewReplacement, PoliceReport, ReplacementRecord};
pub use renewal_online::{FormHolder, RenewedCard};
pub use signature_verifiers::{NewSignatureVerifier, SignatureVerifier};
pub use suspension::{ChallengeRefusal, SuspensionRecord};
pub use suspension_crl::{CrlChanges, CrlDocument, NewDeltaCrl, StoredDeltaCrl};
pub use throttle::{ThrottleRule, ThrottleTicket, ThrottleVerdict};

use backend::Pool;
use crypto::BlindIndex;
use maina_core::authority::AuthorityError;
use maina_core::resident::TransitionError;
use maina_core::NumberAuthority;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error(
        "this database was sealed with another key file (fingerprint {stored}, key file {given})"
    )]
    WrongKey { stored: String, given: String },
    #[error(
        "this database was sealed in format {stored}, and this build reads format {SEAL_FORMAT} only: \
         create a new database (there is no upgrade from pre-release formats)"
    )]
    SealFormat { stored: String },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error("{0}")]
    Rejected(#[from] TransitionError),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0}")]
    Illegal(String),
    #[error("the record was changed by someone else meanwhile; try again")]
    Conflict,
    #[error("the audit trail could not be written: {0}")]
    Audit(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The repository. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    // Shared, not copied: every request's handler clones the store, and the key
    // schedules of AES-GCM, the HMAC and the FF1 ciphers are a few kilobytes.
    sealer: Arc<Sealer>,
    blind_index: Arc<BlindIndex>,
    // Zeroized when the last clone of the store goes.
    audit_key: Arc<zeroize::Zeroizing<[u8; 32]>>,
    /// The card issuer's master key (see `chip.rs`), from the key file.
    card_issuer: Arc<zeroize::Zeroizing<[u8; 32]>>,
    /// The key of the pairwise `sub` (see `oidc.rs`), from the key file.
    pairwise: Arc<zeroize::Zeroizing<[u8; 32]>>,
    authority: Arc<NumberAuthority>,
    audit_sender: tokio::sync::mpsc::Sender<audit::QueuedAudit>,
    /// How far this process walked the audit chain and found it sound (position and
    /// link), for the portal's per-entry check (`portal.rs`); never stored.
    verified_chain: Arc<std::sync::Mutex<(u64, [u8; 32])>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (and migrates) the database at `url` with the given keys. A database
    /// of another key file or of an older sealed format is refused here.
    pub async fn open(url: &str, keys: &Keys) -> Result<Self> {
        let pool = Pool::open(url).await?;
        let authority = NumberAuthority::new(
            &keys.stable(crypto::MY_NUMBER_FF1_PURPOSE),
            &keys.stable(crypto::RESIDENT_CODE_FF1_PURPOSE),
        )?;
        let (audit_sender, audit_events) = tokio::sync::mpsc::channel(4096);
        let audit_key = Arc::new(keys.stable(crypto::AUDIT_CHAIN_PURPOSE));
        tokio::spawn(audit::audit_writer(
            pool.clone(),
            audit_events,
            audit_key.clone(),
        ));
        let store = Self {
            pool,
            // Every data key of the key file: the newest seals (see `Sealer`).
            sealer: Arc::new(Sealer::from_ring(&keys.data_keys(crypto::SEAL_KEY_PURPOSE))),
            blind_index: Arc::new(BlindIndex::new(&keys.stable(crypto::BLIND_INDEX_PURPOSE))),
            audit_key,
            card_issuer: Arc::new(keys.card_issuer_master()),
            pairwise: Arc::new(keys.pairwise_sub_master()),
            authority: Arc::new(authority),
            audit_sender,
            verified_chain: Arc::new(std::sync::Mutex::new((
                0,
                maina_core::officer::GENESIS_HASH,
            ))),
        };
        store.pool.migrate().await?;
        store.check_key_and_seal_format(&keys.fingerprint()).await?;
        store.init_counters().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    pub fn authority(&self) -> &NumberAuthority {
        &self.authority
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Tunes the database for a bulk job (on) or for serving (off, the default).
    pub async fn set_bulk_mode(&self, on: bool) -> Result<()> {
        self.pool.set_bulk_mode(on).await
    }

    /// Answers whether the database can be reached.
    pub async fn ping(&self) -> Result<()> {
        self.read_all("SELECT 1", &[]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Handlers run the store's futures on a multi-threaded runtime: they must
    /// stay `Send` through the shared look-up trait of the seam.
    #[allow(dead_code)]
    fn store_futures_are_send(store: &Store, form: &maina_core::ApplicationFormId) {
        assert_send(&store.resident(1));
        assert_send(&store.notice_by_form(form));
        assert_send(&store.login("a", "b", 1));
        assert_send(&store.throttle_hit(&[]));
        assert_send(&store.verify_audit());
        assert_send(&store.card("x"));
    }
}
