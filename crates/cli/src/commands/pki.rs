//! `maina pki ...`: the two card authorities of the data directory.

use crate::context::Context;
use anyhow::{anyhow, bail, Context as _, Result};
use chrono::Utc;
use clap::Subcommand;
use maina_pki::{Authorities, CaKind, TrustStore};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Create the two card authorities in DATA/pki (done by `maina init`; for data
    /// directories made before).
    Init,
    /// Write an authority's current CRL (DER).
    Crl {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an authority's certificate (PEM).
    CaCert {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// The authorities of the data directory.
pub fn load_authorities(context: &Context) -> Result<Authorities> {
    let dir = context.pki_dir();
    if !Authorities::exist(&dir) {
        bail!(
            "no card authorities in {}: run `maina pki init`",
            dir.display()
        );
    }
    Authorities::load(&dir).with_context(|| format!("loading the authorities in {}", dir.display()))
}

/// Creates both authorities in the data directory.
pub fn init_authorities(context: &Context) -> Result<()> {
    let dir = context.pki_dir();
    Authorities::create(&dir, Utc::now())
        .with_context(|| format!("creating the authorities in {}", dir.display()))?;
    println!(
        "  card authorities: {} (keys readable by their owner only; an HSM can take them later)",
        dir.display()
    );
    Ok(())
}

/// What a relying party trusts: both CA certificates and this registry's current
/// CRLs.
pub async fn trust_store(context: &Context) -> Result<TrustStore> {
    let authorities = load_authorities(context)?;
    context
        .with_store(async |store| Ok(maina_service::cards::trust_store(store, &authorities).await?))
        .await
}

fn parse_kind(code: &str) -> Result<CaKind> {
    CaKind::from_code(code).ok_or_else(|| anyhow!("ca: expected auth or sign, got {code:?}"))
}

pub async fn run(context: &Context, command: PkiCommand) -> Result<()> {
    match command {
        PkiCommand::Init => init_authorities(context),
        PkiCommand::Crl { ca, out } => {
            let kind = parse_kind(&ca)?;
            let authorities = load_authorities(context)?;
            let der = context
                .with_store(async |store| {
                    Ok(maina_service::cards::current_crl(store, &authorities, kind).await?)
                })
                .await?;
            std::fs::write(&out, der).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote the {} CRL to {}", kind.code(), out.display());
            Ok(())
        }
        PkiCommand::CaCert { ca, out } => {
            let kind = parse_kind(&ca)?;
            let authorities = load_authorities(context)?;
            std::fs::write(&out, authorities.get(kind).certificate_pem()?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote the {} CA certificate to {}",
                kind.code(),
                out.display()
            );
            Ok(())
        }
    }
}
