//! Relying parties: registered by the administrator (`maina rp add`) or a
//! supervisor (the console), each with its own client id and secret (shown once,
//! only its SHA-256 kept), exact redirect URIs, a kind (`auth`: who you are;
//! `facts`: the four facts too, with consent), a sector for the pairwise `sub`,
//! and optionally a public JWK set for `private_key_jwt`. The resident portal is a
//! first-party party registered on its own (`maina-portal`).

use super::{b64url, PORTAL_CLIENT_ID};
use crate::{Result, Service, ServiceError};
use jsonwebtoken::jwk::JwkSet;
use maina_core::officer::{Actor, Role};
use maina_store::{NewRelyingParty, RelyingParty};
use rand::RngCore;

/// A party to register.
#[derive(Debug, Clone, Default)]
pub struct NewParty {
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// `auth` (default) or `facts`.
    pub kind: Option<String>,
    /// The sector of the pairwise `sub` (default: the first redirect URI's host).
    pub sector: Option<String>,
    /// A public JWK set (JSON) for private_key_jwt.
    pub jwks: Option<String>,
    /// `ES256` (default) or `RS256`.
    pub id_token_alg: Option<String>,
}

/// A party registered: its client id and its secret, shown once.
#[derive(Debug, Clone)]
pub struct PartyCreated {
    pub client_id: String,
    pub client_secret: String,
    pub sector: String,
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(field, message)
}

/// A redirect URI a party may register: absolute http(s), no fragment; http only
/// for a loopback host (a native or test client).
fn check_redirect_uri(uri: &str) -> Result<url::Url> {
    let parsed = url::Url::parse(uri).map_err(|_| {
        invalid(
            "redirect_uri",
            format!("redirect_uri: {uri:?} is not an absolute URL"),
        )
    })?;
    if parsed.fragment().is_some() {
        return Err(invalid(
            "redirect_uri",
            "redirect_uri: a fragment is not allowed",
        ));
    }
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(invalid(
            "redirect_uri",
            "redirect_uri: must be https (http only for localhost)",
        )),
    }
}

impl Service {
    fn may_manage_parties(actor: &Actor) -> Result<()> {
        match actor.role {
            Role::Administrator | Role::Supervisor => Ok(()),
            _ => Err(ServiceError::forbidden()),
        }
    }

    /// Registers a relying party; answers its client id and secret (shown once).
    pub async fn add_relying_party(&self, actor: &Actor, new: &NewParty) -> Result<PartyCreated> {
        Self::may_manage_parties(actor)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name", "name: 1 to 100 characters"));
        }
        if new.redirect_uris.is_empty() {
            return Err(invalid(
                "redirect_uri",
                "redirect_uri: at least one is needed",
            ));
        }
        let mut hosts = Vec::new();
        for uri in &new.redirect_uris {
            hosts.push(
                check_redirect_uri(uri)?
                    .host_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        let kind = new.kind.as_deref().unwrap_or("auth");
        if !matches!(kind, "auth" | "facts") {
            return Err(invalid("kind", "kind: auth or facts"));
        }
        let alg = new.id_token_alg.as_deref().unwrap_or("ES256");
        if !matches!(alg, "ES256" | "RS256") {
            return Err(invalid(
                "id_token_signed_response_alg",
                "id_token_signed_response_alg: ES256 or RS256",
            ));
        }
        if let Some(jwks) = &new.jwks {
            let set: JwkSet = serde_json::from_str(jwks)
                .map_err(|_| invalid("jwks", "jwks: not a JWK set (JSON with a `keys` array)"))?;
            if set.keys.is_empty() {
                return Err(invalid("jwks", "jwks: the set has no key"));
            }
        }
        let sector = match new.sector.as_deref().map(str::trim) {
            Some(sector) if !sector.is_empty() => sector.to_owned(),
            _ => hosts.first().cloned().unwrap_or_default(),
        };
        let mut id = [0u8; 12];
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut id);
        rand::thread_rng().fill_bytes(&mut secret);
        let client_id = format!("rp-{}", hex::encode(id));
        let client_secret = b64url(&secret);
        self.store
            .add_relying_party(
                &NewRelyingParty {
                    client_id: client_id.clone(),
                    name: name.to_owned(),
                    kind: kind.to_owned(),
                    redirect_uris: new.redirect_uris.clone(),
                    secret_hash: Some(maina_pki::sha256(client_secret.as_bytes()).to_vec()),
                    jwks: new.jwks.clone(),
                    sector: sector.clone(),
                    id_token_alg: alg.to_owned(),
                    first_party: false,
                },
                actor,
            )
            .await?;
        Ok(PartyCreated {
            client_id,
            client_secret,
            sector,
        })
    }

    /// Every relying party.
    pub async fn relying_parties(&self, actor: &Actor) -> Result<Vec<RelyingParty>> {
        Self::may_manage_parties(actor)?;
        Ok(self.store.relying_parties().await?)
    }

    /// Disables a relying party.
    pub async fn disable_relying_party(&self, actor: &Actor, client_id: &str) -> Result<()> {
        Self::may_manage_parties(actor)?;
        self.store.disable_relying_party(client_id, actor).await?;
        self.forget_parties();
        Ok(())
    }

    /// Registers the resident portal as a first-party client (no secret: it
    /// redeems its codes in-process), or updates its redirect URI.
    pub async fn ensure_portal_party(&self, redirect_uri: &str) -> Result<()> {
        let uris = vec![redirect_uri.to_owned()];
        match self.store.relying_party(PORTAL_CLIENT_ID).await? {
            Some(party) if party.redirect_uris == uris => Ok(()),
            Some(_) => {
                self.store
                    .set_redirect_uris(PORTAL_CLIENT_ID, &uris)
                    .await?;
                self.forget_parties();
                Ok(())
            }
            None => {
                let actor = Actor::administrator("oidc", "the resident portal's client");
                let added = self
                    .store
                    .add_relying_party(
                        &NewRelyingParty {
                            client_id: PORTAL_CLIENT_ID.to_owned(),
                            name: "マイナポータル (maina portal)".to_owned(),
                            kind: "auth".to_owned(),
                            redirect_uris: uris,
                            secret_hash: None,
                            jwks: None,
                            sector: PORTAL_CLIENT_ID.to_owned(),
                            id_token_alg: "ES256".to_owned(),
                            first_party: true,
                        },
                        &actor,
                    )
                    .await;
                match added {
                    Ok(()) | Err(maina_store::StoreError::Duplicate(_)) => Ok(()),
                    Err(error) => Err(error.into()),
                }
            }
        }
    }
}
