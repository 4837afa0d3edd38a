//! `maina verify FILE`: a detached signature made by `maina card sign` — the
//! signature, the certificate chain, its validity and its revocation status (from
//! this registry's current CRL).

use crate::commands::{pki, with_suffix};
use crate::context::Context;
use anyhow::{anyhow, Context as _, Result};
use chrono::Utc;
use maina_pki::pem;
use std::path::{Path, PathBuf};

/// The PEM label of the signature block in a signature file (the certificate
/// follows as a CERTIFICATE block).
pub const SIGNATURE_LABEL: &str = "MAINA SIGNATURE";

/// A signature file's name when none is given: FILE.sig.
pub fn default_signature_path(file: &Path) -> PathBuf {
    with_suffix(file, ".sig")
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The signed file.
    file: PathBuf,
    /// The signature [default: FILE.sig].
    #[arg(long)]
    signature: Option<PathBuf>,
}

pub async fn run(context: &Context, args: &VerifyArgs) -> Result<()> {
    let file = &args.file;
    let signature_file = args
        .signature
        .clone()
        .unwrap_or_else(|| default_signature_path(file));
    let document = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = std::fs::read_to_string(&signature_file)
        .with_context(|| format!("reading {}", signature_file.display()))?;
    let block =
        |label| pem::decode(&text, label).map_err(|e| anyhow!("{}: {e}", signature_file.display()));
    let signature = block(SIGNATURE_LABEL)?;
    let certificate = block("CERTIFICATE")?;
    let trust = pki::trust_store(context).await?;
    let valid = trust
        .verify_document(&certificate, &document, &signature, Utc::now())
        .map_err(|e| anyhow!("signature NOT valid: {e}"))?;
    let facts = valid
        .facts
        .map(|f| format!(" — {} ({}), born {}", f.name, f.address, f.birth_date))
        .unwrap_or_default();
    println!(
        "signature valid: signed by {}{facts}; certificate {} valid until {}, not revoked",
        valid.subject,
        valid.serial,
        valid.not_after.date_naive()
    );
    Ok(())
}
