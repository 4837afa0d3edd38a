//! Signing in with the card (issue 14): maina as an OpenID Connect provider.
//!
//! - `parties.rs`: relying parties (register, list, disable; the first-party portal).
//! - `keys.rs`: the provider's signing keys (ES256, RS256), their rotation and JWKS.
//! - `authorize.rs`: the authorization request's checks and its one-time challenge.
//! - `answer.rs`: the card's answer (chain, status from the store, card state).
//! - `jose_crypto.rs`: the JOSE signatures through OpenSSL (a `jsonwebtoken`
//!   crypto provider).
//! - `token.rs`: the token endpoint (client authentication, PKCE), ID and access
//!   tokens, userinfo.
//! - `replay.rs`: a client assertion's `jti` good once; a replayed code revokes
//!   its tokens.
//! - `throttle.rs`: the authorization endpoint's throttle per client address.
//! - `refusal.rs`: why the card's answer was refused, for the sign-in page.
//! - `reveal.rs`: the portal's reveal client (the signature key shows the My Number).
//!
//! Refusals are [`ServiceError`]s whose `code` is the OAuth 2.0 / OIDC error code
//! (`invalid_request`, `invalid_client`, `invalid_grant`, ...) and whose `field`
//! names the parameter; the server writes them as `{error, error_description}`.
//! Nothing about a resident is in a refusal.

mod answer;
mod authorize;
pub mod jose_crypto;
mod keys;
mod parties;
mod refusal;
mod replay;
mod reveal;
pub mod sessions;
mod throttle;
mod token;

pub use answer::CardAnswer;
pub use authorize::{
    canonical_challenge, AuthorizeParams, AuthorizeRefusal, ContinueOutcome, RequestView,
};
pub use keys::OidcKeys;
pub use parties::{NewParty, PartyCreated};
pub use refusal::{RequestProgress, REFUSAL_REASONS};
pub use replay::MAX_ASSERTION_SECONDS;
pub use reveal::PORTAL_REVEAL_CLIENT_ID;
pub use token::{TokenRequest, TokenResponse};

use crate::{ErrorKind, ServiceError};
use base64::Engine as _;
use maina_pki::TrustStore;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

/// How long an authorization request and its challenge are good (seconds).
pub const CHALLENGE_SECONDS: i64 = 300;
/// How long an authorization code is good (seconds).
pub const CODE_SECONDS: i64 = 60;
/// How long ID and access tokens are good (seconds); a retired key is served this
/// long after its retirement.
pub const TOKEN_SECONDS: i64 = 600;
/// The first-party client of the resident portal.
pub const PORTAL_CLIENT_ID: &str = "maina-portal";
/// The facts a `facts` party receives, as OIDC claims, in the order the consent
/// page lists them.
pub const FACT_CLAIMS: [&str; 4] = ["name", "address", "birthdate", "gender"];

/// An OAuth refusal: `code` is the standard error code, `field` the parameter.
pub(crate) fn oauth(
    code: &'static str,
    field: &str,
    description: impl Into<String>,
) -> ServiceError {
    let kind = match code {
        "invalid_client" | "invalid_token" => ErrorKind::Unauthenticated,
        "access_denied" => ErrorKind::Forbidden,
        "temporarily_unavailable" => ErrorKind::Unavailable,
        _ => ErrorKind::BadRequest,
    };
    let mut error = ServiceError::new(kind, code, description);
    if !field.is_empty() {
        error = error.with_field(field);
    }
    error
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the provider keeps in memory: the signing keys (loaded once, reloaded after
/// a rotation), the card hierarchy's chain check (built once from the authorities)
/// and the certificates whose chain it already checked (revocation and card state
/// are read from the store every time).
#[derive(Default)]
pub struct OidcCache {
    pub(crate) keys: RwLock<Option<std::sync::Arc<OidcKeys>>>,
    pub(crate) trust: std::sync::OnceLock<TrustStore>,
    pub(crate) checked: Mutex<HashMap<[u8; 32], maina_pki::ValidCertificate>>,
    /// The relying parties read in the last [`PARTY_SECONDS`]: four reads of the
    /// same row per sign-in otherwise. A change made through this process clears
    /// it; one made by another process (`maina rp disable`) is seen within
    /// [`PARTY_SECONDS`].
    pub(crate) parties: Mutex<HashMap<String, (std::time::Instant, maina_store::RelyingParty)>>,
}

/// How long a relying party read from the store is used before it is read again.
pub const PARTY_SECONDS: u64 = 1;

impl std::fmt::Debug for OidcCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcCache").finish_non_exhaustive()
    }
}

/// The facts a facts party receives, from the signature certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharedFacts {
    pub name: String,
    pub address: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// `male`, `female`, `not known` or `not applicable` (ISO 5218 1, 2, 0, 9).
    pub gender: String,
}

impl SharedFacts {
    pub(crate) fn from_certificate(facts: &maina_pki::HolderFacts) -> Self {
        let date = &facts.birth_date;
        let birthdate = match (date.get(0..4), date.get(4..6), date.get(6..8)) {
            (Some(y), Some(m), Some(d)) => format!("{y}-{m}-{d}"),
            _ => date.clone(),
        };
        let gender = match facts.sex.as_str() {
            "1" => "male",
            "2" => "female",
            "9" => "not applicable",
            _ => "not known",
        };
        Self {
            name: facts.name.clone(),
            address: facts.address.clone(),
            birthdate,
            gender: gender.to_owned(),
        }
    }

    /// The claims as OIDC writes them (`address` is an object).
    pub fn claims(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert("name".into(), self.name.clone().into());
        map.insert(
            "address".into(),
            serde_json::json!({ "formatted": self.address }),
        );
        map.insert("birthdate".into(), self.birthdate.clone().into());
        map.insert("gender".into(), self.gender.clone().into());
        map
    }
}

impl crate::Service {
    /// Deletes what the provider no longer needs: sign-in requests (and their
    /// codes and sealed facts) whose tokens have all expired, and ended or idle
    /// resident sessions. The sign-in records stay. Answers the requests deleted.
    pub async fn prune_oidc(&self) -> crate::Result<u64> {
        // A request's facts serve userinfo until its access token expires.
        let keep = (CHALLENGE_SECONDS + TOKEN_SECONDS + 60) * 1_000_000;
        let keep = keep.max(sessions::RESIDENT_IDLE_MICROS);
        // The jtis, revocations and refusal notes carry their own expiry.
        self.store
            .prune_oidc_replay(maina_store::now_micros())
            .await?;
        Ok(self
            .store
            .prune_oidc(maina_store::now_micros() - keep)
            .await?)
    }
}

/// A QR code of `data` as an SVG image (dark modules as one path), for a page.
pub fn qr_svg(data: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
    else {
        return String::new();
    };
    let modules = code.width();
    let quiet = 4;
    let size = modules + 2 * quiet;
    let mut path = String::new();
    for (index, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (row, column) = (index / modules, index % modules);
            path.push_str(&format!("M{} {}h1v1h-1z", column + quiet, row + quiet));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"240\" height=\"240\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}

/// The provider's discovery document for `issuer` (no trailing slash).
pub fn discovery(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oidc/authorize"),
        "token_endpoint": format!("{issuer}/oidc/token"),
        "userinfo_endpoint": format!("{issuer}/oidc/userinfo"),
        "jwks_uri": format!("{issuer}/oidc/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "address"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
            "name", "address", "birthdate", "gender"],
        "acr_values_supported": ["urn:maina:card:auth", "urn:maina:card:sign"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "ui_locales_supported": ["ja", "en"],
        "authorization_response_iss_parameter_supported": true,
    })
}
