//! The OpenID Connect provider's registry (issue 14): relying parties, the
//! provider's signing keys, and the pairwise subject identifiers.
//!
//! **Pairwise `sub`** (*our design*, after the institution-specific codes 機関別符号
//! and OIDC Core 8.1): `sub` = base64url(HMAC-SHA256(K, "maina pairwise sub v1" ‖
//! len(sector) ‖ sector ‖ resident row key)), where K is derived from the key file
//! (never stored in the database, never rotated). The resident's row key survives
//! card renewal, reissue and a My Number change, so `sub` does too; parties of
//! different sectors get unlinkable values; the My Number is never an input.

use crate::backend::{now_micros, Query};
use crate::{Result, Store, StoreError};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use maina_core::officer::Actor;
use sha2::Sha256;
use zeroize::Zeroizing;

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub client_id: String,
    pub name: String,
    /// `auth` or `facts`.
    pub kind: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// SHA-256 of the client secret.
    pub secret_hash: Option<Vec<u8>>,
    /// The party's public JWK set (JSON), for private_key_jwt.
    pub jwks: Option<String>,
    pub sector: String,
    /// `ES256` or `RS256`.
    pub id_token_alg: String,
    pub first_party: bool,
    pub disabled: bool,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
}

/// A party to register.
#[derive(Debug, Clone)]
pub struct NewRelyingParty {
    pub client_id: String,
    pub name: String,
    pub kind: String,
    pub redirect_uris: Vec<String>,
    pub secret_hash: Option<Vec<u8>>,
    pub jwks: Option<String>,
    pub sector: String,
    pub id_token_alg: String,
    pub first_party: bool,
}

/// One of the provider's signing keys.
#[derive(Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// PKCS#8 DER (opened from its seal).
    pub private_key: Zeroizing<Vec<u8>>,
    /// The public JWK (JSON).
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub serve_until: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A signing key to store.
pub struct NewSigningKey {
    pub kid: String,
    pub alg: String,
    pub private_key: Zeroizing<Vec<u8>>,
    pub public_jwk: String,
}

const PARTY_COLUMNS: &str = "client_id, name, kind, redirect_uris, secret_hash, jwks, sector, \
     id_token_alg, first_party, disabled, created_at";

fn party(row: &crate::backend::Row) -> Result<RelyingParty> {
    Ok(RelyingParty {
        client_id: row.text(0)?,
        name: row.text(1)?,
        kind: row.text(2)?,
        redirect_uris: row
            .text(3)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        secret_hash: row.opt_bytes(4)?,
        jwks: Some(row.text(5)?).filter(|jwks| !jwks.is_empty()),
        sector: row.text(6)?,
        id_token_alg: row.text(7)?,
        first_party: row.flag(8)?,
        disabled: row.flag(9)?,
        created_at: row.int(10)?,
    })
}

pub(crate) fn oidc_key_place(kid: &str) -> String {
    format!("oidc-key/{kid}")
}

impl Store {
    /// The pairwise subject identifier of resident `resident_key` for `sector`.
    pub fn pairwise_sub(&self, sector: &str, resident_key: u64) -> String {
        let mut out = [0u8; 32];
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.pairwise.as_slice()) {
            mac.update(b"maina pairwise sub v1");
            mac.update(&(sector.len() as u64).to_be_bytes());
            mac.update(sector.as_bytes());
            mac.update(&resident_key.to_be_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    }

    /// Registers a relying party (audited). A taken client id is a duplicate.
    pub async fn add_relying_party(&self, party: &NewRelyingParty, actor: &Actor) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if tx
            .exists(
                "SELECT 1 FROM relying_parties WHERE client_id = $1",
                &[party.client_id.as_str().into()],
            )
            .await?
        {
            return Err(StoreError::Duplicate("relying party"));
        }
        tx.execute(
            &format!(
                "INSERT INTO relying_parties ({PARTY_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)"
            ),
            &[
                party.client_id.as_str().into(),
                party.name.as_str().into(),
                party.kind.as_str().into(),
                party.redirect_uris.join("\n").into(),
                party.secret_hash.clone().into(),
                party.jwks.clone().unwrap_or_default().into(),
                party.sector.as_str().into(),
                party.id_token_alg.as_str().into(),
                i64::from(party.first_party).into(),
                now_micros().into(),
            ],
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("oidc.party-add {}", party.client_id),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// Sets a party's redirect URIs (the first-party portal's follow its public URL).
    pub async fn set_redirect_uris(&self, client_id: &str, uris: &[String]) -> Result<()> {
        let changed = self
            .write_one(
                "UPDATE relying_parties SET redirect_uris = $1 WHERE client_id = $2",
                &[uris.join("\n").into(), client_id.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::NotFound("relying party"));
        }
        Ok(())
    }

    /// A relying party by client id.
    pub async fn relying_party(&self, client_id: &str) -> Result<Option<RelyingParty>> {
        self.read_optional(
            &format!("SELECT {PARTY_COLUMNS} FROM relying_parties WHERE client_id = $1"),
            &[client_id.into()],
        )
        .await?
        .as_ref()
        .map(party)
        .transpose()
    }

    /// Every relying party, by name.
    pub async fn relying_parties(&self) -> Result<Vec<RelyingParty>> {
        self.read_all(
            &format!("SELECT {PARTY_COLUMNS} FROM relying_parties ORDER BY name, client_id"),
            &[],
        )
        .await?
        .iter()
        .map(party)
        .collect()
    }

    /// Disables a party (audited): it can no longer start a sign-in or redeem a code.
    pub async fn disable_relying_party(&self, client_id: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE relying_parties SET disabled = 1 WHERE client_id = $1",
                &[client_id.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::NotFound("relying party"));
        }
        self.audit_in(
            &mut tx,
            actor,
            &format!("oidc.party-disable {client_id}"),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// Adds new signing keys and, in the same transaction, retires the keys that
    /// signed until now: they stay in the JWKS until `serve_until` (microseconds).
    pub async fn rotate_signing_keys(
        &self,
        keys: &[NewSigningKey],
        serve_until: i64,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE oidc_keys SET retired_at = $1, serve_until = $2 WHERE retired_at IS NULL",
            &[now.into(), serve_until.into()],
        )
        .await?;
        for key in keys {
            let sealed = self.seal_record(&oidc_key_place(&key.kid), key.private_key.as_slice())?;
            tx.execute(
                "INSERT INTO oidc_keys (kid, alg, private_key, public_jwk, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    key.kid.as_str().into(),
                    key.alg.as_str().into(),
                    sealed.into(),
                    key.public_jwk.as_str().into(),
                    now.into(),
                ],
            )
            .await?;
        }
        self.audit_in(&mut tx, actor, "oidc.keys-rotate", None)
            .await?;
        tx.commit().await
    }

    /// The signing keys still served (unretired, or retired but before their
    /// `serve_until`), newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let rows = self
            .read_all(
                "SELECT kid, alg, private_key, public_jwk, created_at, retired_at, serve_until \
                 FROM oidc_keys WHERE serve_until IS NULL OR serve_until > $1 \
                 ORDER BY created_at DESC, kid",
                &[now_micros().into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let kid = row.text(0)?;
                let private: Vec<u8> = self.open_record(&oidc_key_place(&kid), &row.bytes(2)?)?;
                Ok(SigningKeyRecord {
                    kid,
                    alg: row.text(1)?,
                    private_key: Zeroizing::new(private),
                    public_jwk: row.text(3)?,
                    created_at: row.int(4)?,
                    retired_at: row.opt_int(5)?,
                    serve_until: row.opt_int(6)?,
                })
            })
            .collect()
    }
}
