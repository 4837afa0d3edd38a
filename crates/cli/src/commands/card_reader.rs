//! `maina card read`, `sign` and `auth`: client commands that use any card in a
//! PC/SC reader (the emulated one attached through vpcd, or a real My Number card).

use crate::commands::{pki, verify};
use crate::context::Context;
use anyhow::{anyhow, Context as _, Result};
use chrono::Utc;
use maina_pki::{digest_info_sha256, pem, sha256, sign_detached, sign_pdf, PkiError, SignRequest};
use maina_reader::{JpkiKey, MyNumberCard, PcscTransport};
use rand::Rng;
use std::path::{Path, PathBuf};

fn reader(name: Option<&str>) -> Result<MyNumberCard<PcscTransport>> {
    let transport = PcscTransport::connect(name)?;
    Ok(MyNumberCard::new(transport))
}

/// Asks for a secret at the terminal (not echoed).
pub fn prompt(label: &str) -> Result<String> {
    rpassword::prompt_password(format!("{label}: ")).with_context(|| format!("reading the {label}"))
}

/// A PIN from a flag, or asked for.
fn given_or_prompt(given: Option<String>, label: &str) -> Result<String> {
    match given {
        Some(pin) => Ok(pin),
        None => prompt(label),
    }
}

pub fn read(name: Option<&str>) -> Result<()> {
    let mut card = reader(name)?;
    card.select_jpki()?;
    println!("token: {}", card.jpki_token()?);
    for (label, fid) in [
        (
            "authentication certificate",
            JpkiKey::Authentication.certificate_file(),
        ),
        (
            "authentication CA certificate",
            JpkiKey::Authentication.ca_certificate_file(),
        ),
        (
            "signature CA certificate",
            JpkiKey::Signature.ca_certificate_file(),
        ),
    ] {
        let der = card.read_der_file(fid)?;
        println!(
            "{label}: {} bytes, SHA-256 {}",
            der.len(),
            hex::encode(sha256(&der))
        );
    }
    println!("signature certificate: readable only after the signature password");
    for (label, key) in [
        ("authentication PIN", JpkiKey::Authentication),
        ("signature password", JpkiKey::Signature),
    ] {
        let left = card.jpki_tries_left(key)?;
        println!(
            "{label}: {left} tries left{}",
            if left == 0 { " (BLOCKED)" } else { "" }
        );
    }
    Ok(())
}

/// What `maina card sign` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignFormat {
    /// A CMS detached signature (CAdES-BES), FILE.p7s.
    Cms,
    /// A PAdES B-B signed copy of a PDF, FILE-signed.pdf.
    Pdf,
    /// The old PEM pair (signature, certificate), FILE.sig.
    Pem,
}

/// Signs `file` with the card's signature key (the chip signs; the PIN is
/// verified just before, as the signature key needs).
pub fn sign(
    file: &Path,
    out: Option<PathBuf>,
    format: SignFormat,
    given: Option<String>,
    name: Option<&str>,
) -> Result<()> {
    let document = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut card = reader(name)?;
    card.select_jpki()?;
    let ca_certificate = card.read_der_file(JpkiKey::Signature.ca_certificate_file())?;
    let pin = given_or_prompt(given, "signature password")?;
    card.jpki_verify(JpkiKey::Signature, &pin)?;
    let certificate = card.read_der_file(JpkiKey::Signature.certificate_file())?;
    let mut chip = |digest_info: &[u8]| {
        card.jpki_sign(JpkiKey::Signature, digest_info)
            .map_err(|e| PkiError::Invalid(format!("the card did not sign: {e}")))
    };
    let chain = [ca_certificate];
    let (out, bytes) = match format {
        SignFormat::Cms => {
            let cms = sign_detached(
                &SignRequest {
                    content_digest: sha256(&document),
                    signer_certificate: &certificate,
                    chain: &chain,
                    signing_time: Some(Utc::now()),
                },
                &mut chip,
            )?;
            (out.unwrap_or_else(|| verify::default_cms_path(file)), cms)
        }
        SignFormat::Pdf => {
            let signed = sign_pdf(&document, &certificate, &chain, Utc::now(), &mut chip)?;
            (
                out.unwrap_or_else(|| verify::default_signed_pdf_path(file)),
                signed,
            )
        }
        SignFormat::Pem => {
            let signature = chip(&digest_info_sha256(&sha256(&document)))?;
            let text = format!(
                "{}{}",
                pem::encode(verify::SIGNATURE_LABEL, &signature),
                pem::encode("CERTIFICATE", &certificate)
            );
            (
                out.unwrap_or_else(|| verify::default_signature_path(file)),
                text.into_bytes(),
            )
        }
    };
    std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("signed {} -> {}", file.display(), out.display());
    Ok(())
}

/// Authenticates the holder: the card signs a fresh challenge with its
/// authentication key; the answer is checked against the CA and this registry's CRL.
pub async fn authenticate(
    context: &Context,
    given: Option<String>,
    name: Option<&str>,
) -> Result<()> {
    let trust = pki::trust_store(context).await?;
    let mut card = reader(name)?;
    card.select_jpki()?;
    let certificate = card.read_der_file(JpkiKey::Authentication.certificate_file())?;
    let pin = given_or_prompt(given, "user-authentication PIN")?;
    card.jpki_verify(JpkiKey::Authentication, &pin)?;
    let mut challenge = [0u8; 32];
    rand::thread_rng().fill(&mut challenge);
    let signature = card.jpki_sign(
        JpkiKey::Authentication,
        &digest_info_sha256(&sha256(&challenge)),
    )?;
    let valid = trust
        .verify_authentication(&certificate, &challenge, &signature, Utc::now())
        .map_err(|e| anyhow!("authentication failed: {e}"))?;
    println!(
        "authenticated: {} (certificate {}, valid until {}, not revoked)",
        valid.subject,
        valid.serial,
        valid.not_after.date_naive()
    );
    Ok(())
}
