//! Signature verifiers: registered by the administrator (`maina verifier add`) or a
//! supervisor, each with its own client id and secret (shown once, only its SHA-256
//! kept), a sector for the pairwise identifier, and whether it may follow a signer
//! across a change of name or address (`--follow`). A supervisor may list and
//! disable them.

use crate::{Result, Service, ServiceError};
use maina_core::officer::{Actor, Role};
use maina_store::{NewSignatureVerifier, SignatureVerifier};
use rand::RngCore;

/// A verifier to register.
#[derive(Debug, Clone, Default)]
pub struct NewVerifier {
    pub name: String,
    /// The sector of the pairwise identifier (default: the name).
    pub sector: Option<String>,
    /// May follow a signer to the newest signature certificate.
    pub follow: bool,
}

/// A verifier registered: its client id and its secret, shown once.
#[derive(Debug, Clone)]
pub struct VerifierCreated {
    pub client_id: String,
    pub client_secret: String,
    pub sector: String,
}

fn may_manage(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::Administrator | Role::Supervisor => Ok(()),
        _ => Err(ServiceError::forbidden()),
    }
}

impl Service {
    /// Registers a signature verifier; answers its client id and secret (shown once).
    pub async fn add_signature_verifier(
        &self,
        actor: &Actor,
        new: &NewVerifier,
    ) -> Result<VerifierCreated> {
        may_manage(actor)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::invalid("name", "name: 1 to 100 characters"));
        }
        let sector = match new.sector.as_deref().map(str::trim) {
            Some(sector) if !sector.is_empty() => sector.to_owned(),
            _ => name.to_owned(),
        };
        if sector.chars().count() > 255 {
            return Err(ServiceError::invalid(
                "sector",
                "sector: at most 255 characters",
            ));
        }
        let mut id = [0u8; 12];
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut id);
        rand::thread_rng().fill_bytes(&mut secret);
        let client_id = format!("sv-{}", hex::encode(id));
        let client_secret = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        };
        self.store
            .add_signature_verifier(
                &NewSignatureVerifier {
                    client_id: client_id.clone(),
                    name: name.to_owned(),
                    secret_hash: maina_pki::sha256(client_secret.as_bytes()).to_vec(),
                    sector: sector.clone(),
                    follow: new.follow,
                },
                actor,
            )
            .await?;
        Ok(VerifierCreated {
            client_id,
            client_secret,
            sector,
        })
    }

    /// Every signature verifier (no secret leaves: only its hash is stored).
    pub async fn signature_verifiers(&self, actor: &Actor) -> Result<Vec<SignatureVerifier>> {
        may_manage(actor)?;
        Ok(self.store.signature_verifiers().await?)
    }

    /// Disables a signature verifier: its requests are refused from now on.
    pub async fn disable_signature_verifier(&self, actor: &Actor, client_id: &str) -> Result<()> {
        may_manage(actor)?;
        self.store
            .disable_signature_verifier(client_id, actor)
            .await?;
        // This server stops at once; the others within `VERIFIER_CACHE`.
        if let Ok(mut cache) = self.signatures.verifiers.lock() {
            cache.remove(client_id);
        }
        Ok(())
    }
}
