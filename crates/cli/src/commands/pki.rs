//! `maina pki ...`: the two card hierarchies. Each is an offline root, an issuing CA
//! (signs the cards' certificates and the CRLs) and a delegated OCSP responder.
//!
//! The roots' keys never enter the data directory: they are written to a directory
//! of their own (`--root-dir`, by default `DATA-pki-root` next to the data
//! directory), to be carried offline; only `maina pki init` and `maina pki
//! renew-ca` open it. The server loads only the roots' certificates.

use crate::context::Context;
use anyhow::{anyhow, bail, Context as _, Result};
use chrono::Utc;
use clap::Subcommand;
use maina_pki::{Authorities, CaKind, Roots, TrustStore};
use maina_store::Store;
use std::path::{Path, PathBuf};

/// The environment variable naming the roots' directory.
const ROOT_DIR_ENV: &str = "MAINA_PKI_ROOT_DIR";

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Create both hierarchies: the roots in --root-dir (keep it offline), the
    /// issuing CAs and OCSP responders in DATA/pki (done by `maina init`; for data
    /// directories made before).
    Init {
        /// Where the roots' keys go [default: DATA-pki-root, next to the data
        /// directory]. Never the data directory itself.
        #[arg(long, env = ROOT_DIR_ENV)]
        root_dir: Option<PathBuf>,
    },
    /// Write an issuing CA's current CRL (DER), signing the next one first if a
    /// revocation made the stored one stale.
    Crl {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an issuing CA's certificate (PEM): what signs the cards' certificates.
    CaCert {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a root's certificate (PEM): what relying parties trust.
    RootCert {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an OCSP responder's certificate (PEM).
    ResponderCert {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-certify an issuing CA (same key and name) from its root, offline: run on
    /// the machine holding --root-dir, with DATA/pki at hand. Restart the server.
    RenewCa {
        /// auth | sign
        #[arg(long)]
        ca: String,
        /// The roots' directory.
        #[arg(long, env = ROOT_DIR_ENV)]
        root_dir: PathBuf,
    },
    /// Give an OCSP responder a new key and certificate from its issuing CA (no root
    /// needed). Restart the server.
    RenewResponder {
        /// auth | sign
        #[arg(long)]
        ca: String,
    },
    /// Show each level's validity.
    Status,
}

/// The roots' directory: given, or `DATA-pki-root` next to the data directory.
fn root_dir(context: &Context, given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = given.or_else(|| std::env::var_os(ROOT_DIR_ENV).map(PathBuf::from)) {
        return Ok(dir);
    }
    let data = std::path::absolute(&context.data)
        .with_context(|| format!("resolving {}", context.data.display()))?;
    let name = data
        .file_name()
        .ok_or_else(|| anyhow!("give --root-dir: the data directory has no name"))?;
    let mut root = name.to_os_string();
    root.push("-pki-root");
    Ok(data.with_file_name(root))
}

/// The authorities of the data directory (no root key among them).
pub fn load_authorities(context: &Context) -> Result<Authorities> {
    let dir = context.pki_dir();
    if !Authorities::exist(&dir) {
        bail!(
            "no card hierarchies in {}: run `maina pki init` (a data directory of an \
             older maina, with self-signed CAs only, needs a new one)",
            dir.display()
        );
    }
    Authorities::load(&dir).with_context(|| format!("loading the authorities in {}", dir.display()))
}

/// Creates both hierarchies (roots in their own directory) and signs the first
/// CRLs into `store`.
pub async fn init_authorities(
    context: &Context,
    store: &Store,
    root_dir_given: Option<PathBuf>,
) -> Result<()> {
    let dir = context.pki_dir();
    let roots = root_dir(context, root_dir_given)?;
    if same_dir(&roots, &context.data) || roots.starts_with(&context.data) {
        bail!(
            "--root-dir {} is inside the data directory: the roots' keys must stay out of \
             the server's reach",
            roots.display()
        );
    }
    let authorities = Authorities::create(&roots, &dir, Utc::now())
        .with_context(|| format!("creating the card hierarchies in {}", dir.display()))?;
    maina_service::cards::refresh_crls(store, &authorities).await?;
    println!(
        "  card authorities: {} (issuing CAs and OCSP responders, keys readable by their owner only)",
        dir.display()
    );
    println!(
        "  root CA keys: {} — move this directory offline (removable media); only \
         `maina pki renew-ca --root-dir` needs it",
        roots.display()
    );
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// What a relying party trusts: both roots, the issuing CAs below them and this
/// registry's current CRLs.
pub async fn trust_store(context: &Context) -> Result<TrustStore> {
    let authorities = load_authorities(context)?;
    context
        .with_store(async |store| Ok(maina_service::cards::trust_store(store, &authorities).await?))
        .await
}

fn parse_kind(code: &str) -> Result<CaKind> {
    CaKind::from_code(code).ok_or_else(|| anyhow!("ca: expected auth or sign, got {code:?}"))
}

fn write(out: &Path, bytes: &[u8], what: &str) -> Result<()> {
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote the {what} to {}", out.display());
    Ok(())
}

fn pem(der: &[u8]) -> Result<Vec<u8>> {
    Ok(maina_pki::pem::encode("CERTIFICATE", der).into_bytes())
}

pub async fn run(context: &Context, command: PkiCommand) -> Result<()> {
    match command {
        PkiCommand::Init { root_dir } => {
            context
                .with_store(async |store| init_authorities(context, store, root_dir).await)
                .await
        }
        PkiCommand::Crl { ca, out } => {
            let kind = parse_kind(&ca)?;
            let authorities = load_authorities(context)?;
            let der = context
                .with_store(async |store| {
                    Ok(maina_service::cards::current_crl(store, &authorities, kind).await?)
                })
                .await?;
            write(&out, &der, &format!("{} CRL", kind.code()))
        }
        PkiCommand::CaCert { ca, out } => write_certificate(context, &ca, &out, Level::Issuing),
        PkiCommand::RootCert { ca, out } => write_certificate(context, &ca, &out, Level::Root),
        PkiCommand::ResponderCert { ca, out } => {
            write_certificate(context, &ca, &out, Level::Responder)
        }
        PkiCommand::RenewCa { ca, root_dir } => {
            let kind = parse_kind(&ca)?;
            if !Roots::exist(&root_dir) {
                bail!("no root keys in {}", root_dir.display());
            }
            let roots = Roots::load(&root_dir)
                .with_context(|| format!("loading the roots in {}", root_dir.display()))?;
            let until = roots.renew_issuing_ca(&context.pki_dir(), kind, Utc::now())?;
            println!(
                "the {} issuing CA is certified until {} (same key); restart the server",
                kind.code(),
                until.date_naive()
            );
            Ok(())
        }
        PkiCommand::RenewResponder { ca } => {
            let kind = parse_kind(&ca)?;
            let until = Authorities::renew_responder(&context.pki_dir(), kind, Utc::now())?;
            println!(
                "the {} OCSP responder has a new key, certified until {}; restart the server",
                kind.code(),
                until.date_naive()
            );
            Ok(())
        }
        PkiCommand::Status => {
            let authorities = load_authorities(context)?;
            for kind in CaKind::ALL {
                let hierarchy = authorities.get(kind);
                println!(
                    "{}: root until {}, issuing CA until {}, OCSP responder until {}",
                    kind.code(),
                    hierarchy.root_not_after()?.date_naive(),
                    hierarchy.issuing().not_after().date_naive(),
                    hierarchy.responder().not_after().date_naive()
                );
            }
            Ok(())
        }
    }
}

/// A level of a hierarchy whose certificate can be written out.
#[derive(Clone, Copy)]
enum Level {
    Root,
    Issuing,
    Responder,
}

/// Writes the certificate of `level` in the hierarchy `ca` as PEM to `out`.
fn write_certificate(context: &Context, ca: &str, out: &Path, level: Level) -> Result<()> {
    let kind = parse_kind(ca)?;
    let authorities = load_authorities(context)?;
    let hierarchy = authorities.get(kind);
    let (der, what) = match level {
        Level::Root => (hierarchy.root_certificate_der(), "root certificate"),
        Level::Issuing => (
            hierarchy.issuing().certificate_der(),
            "issuing CA certificate",
        ),
        Level::Responder => (
            hierarchy.responder().certificate_der(),
            "OCSP responder certificate",
        ),
    };
    write(out, &pem(der)?, &format!("{} {what}", kind.code()))
}
