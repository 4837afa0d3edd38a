//! `maina rp add|list|disable` (the OpenID Connect provider's relying parties) and
//! `maina oidc rotate-key` (its signing keys). Each calls the same service use case
//! as the supervisor's console page.

use crate::context::Context;
use anyhow::{anyhow, Context as _, Result};
use maina_service::oidc::NewParty;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum RpCommand {
    /// Register a relying party: prints its client_id and client_secret (shown once).
    Add {
        /// The party's name, shown to residents when they sign in.
        name: String,
        /// An exact redirect URI (repeat for more).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uri: Vec<String>,
        /// auth (who the resident is) or facts (name, address, birth date, sex too,
        /// with the resident's consent).
        #[arg(long, default_value = "auth")]
        kind: String,
        /// The sector of the pairwise `sub` (parties of one sector get the same
        /// `sub` for a resident); default: the redirect URI's host.
        #[arg(long)]
        sector: Option<String>,
        /// A public JWK set (JSON file) for private_key_jwt client authentication.
        #[arg(long = "jwks-file")]
        jwks_file: Option<PathBuf>,
        /// The ID token's algorithm: ES256 (default) or RS256.
        #[arg(long = "id-token-alg")]
        id_token_alg: Option<String>,
    },
    /// List the relying parties.
    List,
    /// Disable a relying party: it can start no sign-in and redeem no code.
    Disable { client_id: String },
}

#[derive(clap::Subcommand, Debug)]
pub enum OidcCommand {
    /// Rotate the provider's signing keys: a new ES256 and RS256 key sign from now;
    /// the old ones stay in the JWKS until the tokens they signed have expired.
    RotateKey,
}

pub async fn run_rp(context: &Context, command: RpCommand) -> Result<()> {
    let actor = context.who();
    match command {
        RpCommand::Add {
            name,
            redirect_uri,
            kind,
            sector,
            jwks_file,
            id_token_alg,
        } => {
            let jwks = jwks_file
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))
                })
                .transpose()?;
            let new = NewParty {
                name,
                redirect_uris: redirect_uri,
                kind: Some(kind),
                sector,
                jwks,
                id_token_alg,
            };
            context
                .with_service(async |service| {
                    let created = service
                        .add_relying_party(&actor, &new)
                        .await
                        .map_err(|e| anyhow!("{}", e.message))?;
                    println!("client_id      {}", created.client_id);
                    println!("client_secret  {}", created.client_secret);
                    println!("sector         {}", created.sector);
                    eprintln!("(the client secret is shown only now)");
                    Ok(())
                })
                .await
        }
        RpCommand::List => {
            context
                .with_service(async |service| {
                    let parties = service
                        .relying_parties(&actor)
                        .await
                        .map_err(|e| anyhow!("{}", e.message))?;
                    for party in parties {
                        println!(
                            "{}  {:5}  {}{}  sector {}  {}",
                            party.client_id,
                            party.kind,
                            party.name,
                            if party.disabled { " (disabled)" } else { "" },
                            party.sector,
                            party.redirect_uris.join(" ")
                        );
                    }
                    Ok(())
                })
                .await
        }
        RpCommand::Disable { client_id } => {
            context
                .with_service(async |service| {
                    service
                        .disable_relying_party(&actor, &client_id)
                        .await
                        .map_err(|e| anyhow!("{}", e.message))?;
                    println!("{client_id} disabled");
                    Ok(())
                })
                .await
        }
    }
}

pub async fn run_oidc(context: &Context, command: OidcCommand) -> Result<()> {
    match command {
        OidcCommand::RotateKey => {
            context
                .with_service(async |service| {
                    service
                        .oidc_keys()
                        .await
                        .map_err(|e| anyhow!("{}", e.message))?;
                    let kids = service
                        .rotate_oidc_keys(&context.who())
                        .await
                        .map_err(|e| anyhow!("{}", e.message))?;
                    println!("signing keys: {}", kids.join(", "));
                    println!(
                    "the old keys stay in the JWKS for {} s (until the tokens they signed expire)",
                    maina_service::oidc::TOKEN_SECONDS
                );
                    Ok(())
                })
                .await
        }
    }
}
