//! `maina verify FILE`: a signature made by `maina card sign` — a CMS detached
//! signature (FILE.p7s), a PAdES signed PDF (the signature inside FILE), or the old
//! PEM pair (FILE.sig) — checked for the signature, the certificate chain, its
//! validity and its revocation status (from this registry's current CRL).

use crate::commands::{pki, with_suffix};
use crate::context::Context;
use anyhow::{anyhow, bail, Context as _, Result};
use chrono::Utc;
use maina_pki::{pdf_signatures, pem, sha256, CmsSignature, TrustStore, ValidCertificate};
use std::path::{Path, PathBuf};

/// The PEM label of the signature block in a signature file (the certificate
/// follows as a CERTIFICATE block).
pub const SIGNATURE_LABEL: &str = "MAINA SIGNATURE";

/// The old signature file's name when none is given: FILE.sig.
pub fn default_signature_path(file: &Path) -> PathBuf {
    with_suffix(file, ".sig")
}

/// A CMS detached signature's name when none is given: FILE.p7s.
pub fn default_cms_path(file: &Path) -> PathBuf {
    with_suffix(file, ".p7s")
}

/// A signed PDF's name when none is given: FILE-signed.pdf (the `.pdf` replaced).
pub fn default_signed_pdf_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!("{stem}-signed.pdf"))
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The signed file (a signed PDF carries its signature inside).
    file: PathBuf,
    /// The signature [default: FILE.p7s, else FILE.sig].
    #[arg(long)]
    signature: Option<PathBuf>,
}

fn describe(valid: &ValidCertificate) -> String {
    let facts = valid
        .facts
        .as_ref()
        .map(|f| format!(" — {} ({}), born {}", f.name, f.address, f.birth_date))
        .unwrap_or_default();
    format!(
        "signed by {}{facts}; certificate {} valid until {}, not revoked",
        valid.subject,
        valid.serial,
        valid.not_after.date_naive()
    )
}

/// A CMS signature of content with digest `digest`, under the current CRL.
fn check_cms(trust: &TrustStore, cms: &CmsSignature, digest: &[u8; 32]) -> Result<String> {
    cms.check_content(digest)
        .map_err(|e| anyhow!("signature NOT valid: {e}"))?;
    let valid = trust
        .check_certificate(&cms.signer_certificate, Utc::now())
        .map_err(|e| anyhow!("signature NOT valid: the signer's certificate: {e}"))?;
    if valid.kind != maina_pki::CaKind::Signature {
        bail!("signature NOT valid: not made with a signature certificate");
    }
    cms.check_signature(&valid.public_key)
        .map_err(|e| anyhow!("signature NOT valid: {e}"))?;
    let at = cms
        .signing_time
        .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_default();
    Ok(format!("{}{at}", describe(&valid)))
}

pub async fn run(context: &Context, args: &VerifyArgs) -> Result<()> {
    let file = &args.file;
    let document = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    if args.signature.is_none() && document.starts_with(b"%PDF") {
        let signatures =
            pdf_signatures(&document).map_err(|e| anyhow!("{}: {e}", file.display()))?;
        if !signatures.is_empty() {
            let trust = pki::trust_store(context).await?;
            let last = signatures.len() - 1;
            for (index, signature) in signatures.iter().enumerate() {
                let said = check_cms(&trust, &signature.cms, &signature.covered_digest)?;
                if !signature.covers_whole_file && index == last {
                    bail!("signature NOT valid for the whole file: the PDF was changed after it was signed ({said})");
                }
                // An earlier signature covers the revision a later one signed over.
                let scope = if signature.covers_whole_file {
                    ""
                } else {
                    " for an earlier revision"
                };
                println!(
                    "PDF signature valid{scope} ({}): {said}",
                    signature.sub_filter
                );
            }
            return Ok(());
        }
    }
    let signature_file = match &args.signature {
        Some(path) => path.clone(),
        None if default_cms_path(file).exists() => default_cms_path(file),
        None => default_signature_path(file),
    };
    let bytes = std::fs::read(&signature_file)
        .with_context(|| format!("reading {}", signature_file.display()))?;
    let trust = pki::trust_store(context).await?;
    if !bytes.starts_with(b"-----BEGIN") {
        let cms = CmsSignature::parse(&bytes)
            .map_err(|e| anyhow!("{}: {e}", signature_file.display()))?;
        println!(
            "signature valid (CMS): {}",
            check_cms(&trust, &cms, &sha256(&document))?
        );
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes);
    let block =
        |label| pem::decode(&text, label).map_err(|e| anyhow!("{}: {e}", signature_file.display()));
    let signature = block(SIGNATURE_LABEL)?;
    let certificate = block("CERTIFICATE")?;
    let valid = trust
        .verify_document(&certificate, &document, &signature, Utc::now())
        .map_err(|e| anyhow!("signature NOT valid: {e}"))?;
    println!("signature valid: {}", describe(&valid));
    Ok(())
}
