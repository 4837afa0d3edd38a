//! `maina verifier add|list|disable`: the signature verifiers (署名検証者) that may
//! call `POST /api/v1/signatures/verify`. Each calls the same service use case as
//! the API would.

use crate::context::Context;
use anyhow::{anyhow, Result};
use maina_service::signatures::NewVerifier;

#[derive(clap::Subcommand, Debug)]
pub enum VerifierCommand {
    /// Register a signature verifier: prints its client_id and client_secret
    /// (shown once).
    Add {
        /// The verifier's name (a bank, a tax office, ...).
        name: String,
        /// The sector of the pairwise identifier (the same `sub` a sign-in gives a
        /// relying party of this sector); default: the name.
        #[arg(long)]
        sector: Option<String>,
        /// Allow following a signer whose certificate was revoked for a change of
        /// name or address to the signer's newest signature certificate.
        #[arg(long)]
        follow: bool,
    },
    /// List the signature verifiers.
    List,
    /// Disable a signature verifier: its requests are refused.
    Disable { client_id: String },
}

pub async fn run(context: &Context, command: VerifierCommand) -> Result<()> {
    let actor = context.who();
    context
        .with_service(async |service| match command {
            VerifierCommand::Add {
                name,
                sector,
                follow,
            } => {
                let created = service
                    .add_signature_verifier(
                        &actor,
                        &NewVerifier {
                            name,
                            sector,
                            follow,
                        },
                    )
                    .await
                    .map_err(|e| anyhow!("{}", e.message))?;
                println!("client_id      {}", created.client_id);
                println!("client_secret  {}", created.client_secret);
                println!("sector         {}", created.sector);
                eprintln!("(the client secret is shown only now)");
                Ok(())
            }
            VerifierCommand::List => {
                let verifiers = service
                    .signature_verifiers(&actor)
                    .await
                    .map_err(|e| anyhow!("{}", e.message))?;
                for verifier in verifiers {
                    println!(
                        "{}  {}{}{}  sector {}",
                        verifier.client_id,
                        verifier.name,
                        if verifier.follow { " (follows)" } else { "" },
                        if verifier.disabled { " (disabled)" } else { "" },
                        verifier.sector,
                    );
                }
                Ok(())
            }
            VerifierCommand::Disable { client_id } => {
                service
                    .disable_signature_verifier(&actor, &client_id)
                    .await
                    .map_err(|e| anyhow!("{}", e.message))?;
                println!("{client_id} disabled");
                Ok(())
            }
        })
        .await
}
