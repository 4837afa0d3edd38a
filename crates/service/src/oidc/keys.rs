//! The provider's signing keys: an ES256 key (P-256) and an RS256 key (RSA-2048),
//! made together, stored sealed. The newest unretired key of an algorithm signs;
//! `maina oidc rotate-key` makes a new pair and retires the old one, which stays in
//! the JWKS until every token it signed has expired ([`super::TOKEN_SECONDS`]).
//! Servers reload the keys at most a minute after a rotation made elsewhere.

use super::OidcCache;
use crate::{Result, Service, ServiceError};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use maina_core::officer::{Actor, Role};
use maina_store::NewSigningKey;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How long a server trusts its loaded keys before looking for a rotation.
const RELOAD_AFTER: Duration = Duration::from_secs(60);

/// The keys in memory.
pub struct OidcKeys {
    /// The signing key of each algorithm: (algorithm, kid, key).
    signers: Vec<(Algorithm, String, EncodingKey)>,
    /// Every key served: (kid, algorithm, key).
    verifiers: Vec<(String, Algorithm, DecodingKey)>,
    /// The JWKS document.
    pub jwks: serde_json::Value,
    loaded: Instant,
}

impl std::fmt::Debug for OidcKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self
            .verifiers
            .iter()
            .map(|(kid, _, _)| kid.as_str())
            .collect();
        write!(f, "OidcKeys({kids:?})")
    }
}

impl OidcKeys {
    /// The signing key for `alg` (its kid and key).
    pub(crate) fn signer(&self, alg: Algorithm) -> Option<(&str, &EncodingKey)> {
        self.signers
            .iter()
            .find(|(a, _, _)| *a == alg)
            .map(|(_, kid, key)| (kid.as_str(), key))
    }

    /// A served key by kid.
    pub(crate) fn verifier(&self, kid: &str) -> Option<(Algorithm, &DecodingKey)> {
        self.verifiers
            .iter()
            .find(|(k, _, _)| k == kid)
            .map(|(_, alg, key)| (*alg, key))
    }

    /// The kids of the signing keys.
    pub fn signing_kids(&self) -> Vec<String> {
        self.signers.iter().map(|(_, kid, _)| kid.clone()).collect()
    }
}

fn internal(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(&error)
}

/// A new ES256 and RS256 key pair, with their public JWKs (kid: the JWK thumbprint).
fn generate() -> Result<Vec<NewSigningKey>> {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(internal)?;
    let ec = EcKey::generate(&group).map_err(internal)?;
    let ec_der = Zeroizing::new(
        PKey::from_ec_key(ec)
            .and_then(|key| key.private_key_to_pkcs8())
            .map_err(internal)?,
    );
    let rsa_der = Zeroizing::new(
        Rsa::generate(2048)
            .and_then(|key| key.private_key_to_der())
            .map_err(internal)?,
    );
    let mut keys = Vec::new();
    for (alg, der) in [(Algorithm::ES256, ec_der), (Algorithm::RS256, rsa_der)] {
        let encoding = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_der(&der),
            _ => EncodingKey::from_rsa_der(&der),
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).map_err(internal)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(match alg {
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::RS256,
        });
        keys.push(NewSigningKey {
            kid,
            alg: format!("{alg:?}"),
            private_key: der,
            public_jwk: serde_json::to_string(&jwk).map_err(internal)?,
        });
    }
    Ok(keys)
}

fn algorithm(code: &str) -> Option<Algorithm> {
    match code {
        "ES256" => Some(Algorithm::ES256),
        "RS256" => Some(Algorithm::RS256),
        _ => None,
    }
}

impl Service {
    /// The provider's keys: loaded from the store (made on first use), reloaded
    /// a minute after they were loaded.
    pub async fn oidc_keys(&self) -> Result<Arc<OidcKeys>> {
        let cache: &OidcCache = &self.oidc;
        if let Ok(guard) = cache.keys.read() {
            if let Some(keys) = guard.as_ref().filter(|k| k.loaded.elapsed() < RELOAD_AFTER) {
                return Ok(keys.clone());
            }
        }
        let mut stored = self.store.signing_keys().await?;
        if !stored.iter().any(|k| k.retired_at.is_none()) {
            let actor = Actor::administrator("oidc", "the provider's first signing keys");
            self.store
                .rotate_signing_keys(&generate()?, maina_store::now_micros(), &actor)
                .await?;
            stored = self.store.signing_keys().await?;
        }
        let mut signers = Vec::new();
        let mut verifiers = Vec::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for key in &stored {
            let Some(alg) = algorithm(&key.alg) else {
                continue;
            };
            let jwk: Jwk = serde_json::from_str(&key.public_jwk).map_err(internal)?;
            verifiers.push((
                key.kid.clone(),
                alg,
                DecodingKey::from_jwk(&jwk).map_err(internal)?,
            ));
            jwks.keys.push(jwk);
            // Newest first: the first unretired key of an algorithm signs.
            if key.retired_at.is_none() && !signers.iter().any(|(a, _, _)| *a == alg) {
                let encoding = match alg {
                    Algorithm::ES256 => EncodingKey::from_ec_der(&key.private_key),
                    _ => EncodingKey::from_rsa_der(&key.private_key),
                };
                signers.push((alg, key.kid.clone(), encoding));
            }
        }
        let keys = Arc::new(OidcKeys {
            signers,
            verifiers,
            jwks: serde_json::to_value(&jwks).map_err(internal)?,
            loaded: Instant::now(),
        });
        if let Ok(mut guard) = cache.keys.write() {
            *guard = Some(keys.clone());
        }
        Ok(keys)
    }

    /// The JWKS document.
    pub async fn oidc_jwks(&self) -> Result<serde_json::Value> {
        Ok(self.oidc_keys().await?.jwks.clone())
    }

    /// Rotates the signing keys (the administrator only): a new ES256 and RS256
    /// pair signs from now; the old keys stay in the JWKS until the tokens they
    /// signed have expired. Returns the new kids.
    pub async fn rotate_oidc_keys(&self, actor: &Actor) -> Result<Vec<String>> {
        if actor.role != Role::Administrator {
            return Err(ServiceError::forbidden());
        }
        let keys = generate()?;
        let kids = keys.iter().map(|k| k.kid.clone()).collect();
        let serve_until = maina_store::now_micros() + super::TOKEN_SECONDS * 1_000_000;
        self.store
            .rotate_signing_keys(&keys, serve_until, actor)
            .await?;
        if let Ok(mut guard) = self.oidc.keys.write() {
            *guard = None;
        }
        Ok(kids)
    }
}
