//! Key and certificate files: `STEM.key.pem` (PKCS#8, readable by its owner only,
//! never overwritten) and `STEM.pem` next to it.

use crate::key::KeyPair;
use crate::{PkiError, Result};
use std::path::{Path, PathBuf};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError {
    let path = path.to_path_buf();
    move |source| PkiError::Io { path, source }
}

pub(crate) fn key_path(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!("{stem}.key.pem"))
}

pub(crate) fn certificate_path(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!("{stem}.pem"))
}

/// Creates `dir` readable by its owner only (it holds private keys).
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// Writes a new key file (0600, never over an existing one) and its certificate.
pub(crate) fn save_key_and_certificate(
    dir: &Path,
    stem: &str,
    key: &KeyPair,
    certificate_pem: &[u8],
) -> Result<()> {
    let key_path = key_path(dir, stem);
    if key_path.exists() {
        return Err(PkiError::Exists { path: key_path });
    }
    create_private_dir(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&key_path).map_err(io(&key_path))?;
    std::io::Write::write_all(&mut file, &key.to_pem()?).map_err(io(&key_path))?;
    file.sync_all().map_err(io(&key_path))?;
    save_certificate(dir, stem, certificate_pem)
}

/// Writes (or replaces, through a temporary file and a rename) a certificate file.
pub(crate) fn save_certificate(dir: &Path, stem: &str, certificate_pem: &[u8]) -> Result<()> {
    let path = certificate_path(dir, stem);
    let temporary = dir.join(format!(".{stem}.pem.new"));
    std::fs::write(&temporary, certificate_pem).map_err(io(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io(&path))
}

/// Replaces a key file and its certificate (a renewed responder): the new files
/// are written aside and renamed over the old ones, so a crash leaves one pair.
pub(crate) fn replace_key_and_certificate(
    dir: &Path,
    stem: &str,
    key: &KeyPair,
    certificate_pem: &[u8],
) -> Result<()> {
    let aside = format!(".{stem}.new");
    let _ = std::fs::remove_file(key_path(dir, &aside));
    save_key_and_certificate(dir, &aside, key, certificate_pem)?;
    let key_target = key_path(dir, stem);
    std::fs::rename(key_path(dir, &aside), &key_target).map_err(io(&key_target))?;
    let certificate_target = certificate_path(dir, stem);
    std::fs::rename(certificate_path(dir, &aside), &certificate_target)
        .map_err(io(&certificate_target))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(io(path))
}

/// A certificate file's DER.
pub(crate) fn load_certificate(dir: &Path, stem: &str) -> Result<Vec<u8>> {
    let pem = read(&certificate_path(dir, stem))?;
    Ok(openssl::x509::X509::from_pem(&pem)?.to_der()?)
}

/// A key file and its certificate (DER).
pub(crate) fn load_key_and_certificate(dir: &Path, stem: &str) -> Result<(KeyPair, Vec<u8>)> {
    let key = KeyPair::from_pem(&read(&key_path(dir, stem))?)?;
    Ok((key, load_certificate(dir, stem)?))
}
