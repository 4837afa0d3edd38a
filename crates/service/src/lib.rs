//! maina's use cases, without HTTP. Each public method of [`Service`] is one use
//! case: it checks the actor's role and municipality, writes the audit event and
//! calls the store, in that order. The JSON API, the console pages and the command
//! line are thin adapters over these methods, so they cannot disagree on a rule.
//!
//! Where personal data is decrypted: only inside `maina-store`, at the request of
//! a use case here; what leaves a use case is a `maina-proto` type (a My Number only
//! masked, except in [`maina_proto::ClearMyNumber`] after an audited reveal).

pub mod applications;
pub mod audit_checkpoint;
pub mod card_life;
pub mod cards;
pub mod dates;
mod error;
pub mod i18n;
pub mod mail;
pub mod notice;
pub mod notices;
pub mod oidc;
pub mod pdf;
pub mod photo;
pub mod pickup;
pub mod portal;
pub mod residents;
pub mod sessions;
pub mod signatures;

pub use error::{ErrorKind, Result, ServiceError};

/// The types of the crates below that appear in the use cases' signatures, so that
/// an adapter (the server) needs no dependency but this crate and `maina-proto`.
pub use maina_core::officer::{Actor, Role};
pub use maina_core::{CardNumber, IssueNoticeNumber, MunicipalityCode};
pub use maina_pki::{Authorities, CaKind};
pub use maina_store::{now_micros, Officer, ShipmentRecord, SignatureVerifier, Store};

use std::collections::BTreeMap;
use std::sync::Arc;

/// The settings the use cases need (the server's configuration carries them).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long a session lasts, in minutes.
    pub session_minutes: i64,
    /// Log-ins allowed per client address per minute (a success takes its count
    /// back), counted in the store so every server process shares the count.
    pub login_attempts_per_minute: u32,
    /// Keys of the photo booths allowed to submit applications.
    pub booth_keys: Vec<String>,
    /// What residents are told to contact about a late card, per municipality code.
    pub office_contacts: BTreeMap<String, String>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            session_minutes: 30,
            login_attempts_per_minute: 20,
            booth_keys: Vec::new(),
            office_contacts: BTreeMap::new(),
        }
    }
}

/// The use cases and what they share: the store (which also holds the throttles'
/// counts), the settings, the message catalogues and the card authorities. Cheap
/// to clone.
#[derive(Clone)]
pub struct Service(Arc<Shared>);

/// What every use case shares, behind one `Arc` (the parts with state behind their
/// own, so that a copy made while setting up shares them).
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub config: ServiceConfig,
    pub messages: Arc<i18n::Messages>,
    /// Live sessions seen in the last few seconds.
    pub sessions: Arc<sessions::SessionCache>,
    /// The online channel's CAPTCHA.
    pub captcha: Arc<applications::online::Captcha>,
    /// The card authorities (absent when the data directory has none).
    pub authorities: Option<Arc<maina_pki::Authorities>>,
    /// Signed OCSP answers, until their certificate's authority revokes again.
    pub ocsp_cache: Arc<cards::OcspCache>,
    /// The OpenID Connect provider's keys and checked certificates.
    pub oidc: Arc<oidc::OidcCache>,
    /// The signature-verification service's chain check and checked certificates.
    pub signatures: Arc<signatures::SignatureCache>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Service {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Service {
    pub fn new(store: Store, config: ServiceConfig) -> Self {
        oidc::jose_crypto::install();
        Self(Arc::new(Shared {
            store,
            sessions: Arc::default(),
            messages: Arc::new(i18n::Messages::load()),
            captcha: Arc::default(),
            authorities: None,
            ocsp_cache: Arc::default(),
            oidc: Arc::default(),
            signatures: Arc::default(),
            config,
        }))
    }

    /// The same service, with the card authorities (CRLs, OCSP, card issue).
    pub fn with_authorities(mut self, authorities: maina_pki::Authorities) -> Self {
        Arc::make_mut(&mut self.0).authorities = Some(Arc::new(authorities));
        self
    }

    /// A message in `lang` (see [`i18n::Messages`]).
    pub fn message(&self, lang: &str, id: &str) -> String {
        self.messages.message(lang, id)
    }
}

/// The time before which an application still in card issuance is stuck (the
/// 30-day rule), in microseconds since the epoch.
pub fn stuck_cutoff() -> i64 {
    maina_store::now_micros() - maina_core::application::STUCK_AFTER_DAYS * 24 * 3600 * 1_000_000
}

/// Today, in the registry's calendar (the machine's local date, as before).
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
