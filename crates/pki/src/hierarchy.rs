//! The two hierarchies (user authentication and signature), each three levels: an
//! offline root, an issuing CA below it that signs the cards' certificates and its
//! CRLs, and a delegated OCSP responder below the issuing CA.
//!
//! The roots' keys live in a directory of their own (`Roots`), which only `maina
//! pki` commands open; the server's data directory holds the roots' certificates,
//! the issuing CAs' and the responders' keys (`Authorities`). So nothing the server
//! does — let alone a request from the web — can use a root key.

use crate::ca::{Authority, CaKind};
use crate::files;
use crate::key::KeyPair;
use crate::responder::Responder;
use crate::{PkiError, Result};
use chrono::{DateTime, Utc};
use der::Decode;
use std::path::Path;
use x509_cert::Certificate;

/// How long each level is valid: the root outlives the issuing CA, which outlives
/// any card certificate it signs (five years at most); the responder is short-lived
/// (it carries id-pkix-ocsp-nocheck) and renewed online by the issuing CA.
pub const ROOT_YEARS: u32 = 20;
pub const ISSUING_CA_YEARS: u32 = 10;
pub const RESPONDER_DAYS: i64 = 365;

fn root_stem(kind: CaKind) -> String {
    format!("root-{}", kind.code())
}

fn issuing_stem(kind: CaKind) -> String {
    format!("ca-{}", kind.code())
}

fn responder_stem(kind: CaKind) -> String {
    format!("ocsp-{}", kind.code())
}

/// Whether `child` (DER) is signed by the key of `issuer` (DER).
fn signed_by(child: &[u8], issuer: &[u8]) -> Result<bool> {
    let issuer = openssl::x509::X509::from_der(issuer)?;
    let key = issuer.public_key()?;
    Ok(openssl::x509::X509::from_der(child)?.verify(&key)?)
}

/// The two roots with their keys: opened only by `maina pki` commands, from a
/// directory the operator keeps offline.
#[derive(Debug)]
pub struct Roots {
    pub auth: Authority,
    pub sign: Authority,
}

impl Roots {
    /// Creates both roots (valid [`ROOT_YEARS`]) and writes them to `root_dir`;
    /// never overwrites a key.
    pub fn create(root_dir: &Path, now: DateTime<Utc>) -> Result<Self> {
        let auth = Authority::create(CaKind::Authentication, now, ROOT_YEARS)?;
        let sign = Authority::create(CaKind::Signature, now, ROOT_YEARS)?;
        auth.save(root_dir, &root_stem(CaKind::Authentication))?;
        sign.save(root_dir, &root_stem(CaKind::Signature))?;
        Ok(Self { auth, sign })
    }

    pub fn load(root_dir: &Path) -> Result<Self> {
        Ok(Self {
            auth: Authority::load(
                root_dir,
                &root_stem(CaKind::Authentication),
                CaKind::Authentication,
            )?,
            sign: Authority::load(root_dir, &root_stem(CaKind::Signature), CaKind::Signature)?,
        })
    }

    /// Whether `root_dir` holds both roots' key files.
    pub fn exist(root_dir: &Path) -> bool {
        CaKind::ALL
            .iter()
            .all(|kind| files::key_path(root_dir, &root_stem(*kind)).exists())
    }

    pub fn get(&self, kind: CaKind) -> &Authority {
        match kind {
            CaKind::Authentication => &self.auth,
            CaKind::Signature => &self.sign,
        }
    }

    /// Re-certifies the issuing CA of `kind` in `dir` with its existing key, for
    /// another [`ISSUING_CA_YEARS`]: same name and key, so every card certificate
    /// and CRL it signed still chains. Returns when the new certificate ends.
    pub fn renew_issuing_ca(
        &self,
        dir: &Path,
        kind: CaKind,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>> {
        let current = Authority::load(dir, &issuing_stem(kind), kind)?;
        let renewed = self
            .get(kind)
            .certify_issuing_ca(current.key(), now, ISSUING_CA_YEARS)?;
        files::save_certificate(dir, &issuing_stem(kind), &renewed.certificate_pem()?)?;
        Ok(renewed.not_after())
    }
}

/// One hierarchy as the server holds it: the root's certificate (never its key),
/// the issuing CA and its OCSP responder.
#[derive(Debug)]
pub struct Hierarchy {
    root_der: Vec<u8>,
    issuing: Authority,
    responder: Responder,
}

impl Hierarchy {
    fn load(dir: &Path, kind: CaKind) -> Result<Self> {
        let root_der = files::load_certificate(dir, &root_stem(kind))?;
        let issuing = Authority::load(dir, &issuing_stem(kind), kind)?;
        let responder = Responder::load(dir, &responder_stem(kind), kind)?;
        if !signed_by(issuing.certificate_der(), &root_der)? {
            return Err(PkiError::Invalid(format!(
                "the {} issuing CA in {} is not signed by its root",
                kind.code(),
                dir.display()
            )));
        }
        if !signed_by(responder.certificate_der(), issuing.certificate_der())? {
            return Err(PkiError::Invalid(format!(
                "the {} OCSP responder in {} is not signed by its issuing CA",
                kind.code(),
                dir.display()
            )));
        }
        Certificate::from_der(&root_der)?;
        Ok(Self {
            root_der,
            issuing,
            responder,
        })
    }

    pub fn kind(&self) -> CaKind {
        self.issuing.kind()
    }

    /// The root's certificate (DER): what a relying party trusts.
    pub fn root_certificate_der(&self) -> &[u8] {
        &self.root_der
    }

    /// When the root's certificate ends.
    pub fn root_not_after(&self) -> Result<DateTime<Utc>> {
        let root = Certificate::from_der(&self.root_der)?;
        Ok(crate::from_x509_time(
            &root.tbs_certificate.validity.not_after,
        ))
    }

    pub fn root_certificate_pem(&self) -> Result<Vec<u8>> {
        Ok(openssl::x509::X509::from_der(&self.root_der)?.to_pem()?)
    }

    /// The issuing CA: signs the cards' certificates and the CRLs.
    pub fn issuing(&self) -> &Authority {
        &self.issuing
    }

    /// The delegated OCSP responder.
    pub fn responder(&self) -> &Responder {
        &self.responder
    }

    /// The chain above a card certificate, as PEM: the issuing CA, then the root.
    pub fn chain_pem(&self) -> Result<Vec<u8>> {
        let mut pem = self.issuing.certificate_pem()?;
        pem.extend(self.root_certificate_pem()?);
        Ok(pem)
    }
}

/// Both hierarchies as the server (and the back office) holds them, from the data
/// directory's `pki/`. There is no root key in here: see [`Roots`].
#[derive(Debug)]
pub struct Authorities {
    pub auth: Hierarchy,
    pub sign: Hierarchy,
}

impl Authorities {
    /// Creates both hierarchies: the roots (keys and certificates) in `root_dir`,
    /// and in `dir` the roots' certificates, the issuing CAs and the responders.
    /// `root_dir` must not be `dir`: the root keys are to be carried offline.
    pub fn create(root_dir: &Path, dir: &Path, now: DateTime<Utc>) -> Result<Self> {
        if root_dir == dir {
            return Err(PkiError::Invalid(
                "the roots' directory must not be the server's PKI directory".into(),
            ));
        }
        if CaKind::ALL
            .iter()
            .any(|kind| files::key_path(dir, &issuing_stem(*kind)).exists())
        {
            return Err(PkiError::Exists {
                path: files::key_path(dir, &issuing_stem(CaKind::Authentication)),
            });
        }
        let roots = Roots::create(root_dir, now)?;
        Self::issue_from(&roots, dir, now)
    }

    /// Issues both issuing CAs (fresh keys) and their responders from `roots` into
    /// `dir`, with the roots' certificates.
    pub fn issue_from(roots: &Roots, dir: &Path, now: DateTime<Utc>) -> Result<Self> {
        for kind in CaKind::ALL {
            let root = roots.get(kind);
            files::create_private_dir(dir)?;
            files::save_certificate(dir, &root_stem(kind), &root.certificate_pem()?)?;
            let issuing = root.certify_issuing_ca(&KeyPair::generate()?, now, ISSUING_CA_YEARS)?;
            issuing.save(dir, &issuing_stem(kind))?;
            issuing
                .issue_responder(now, RESPONDER_DAYS)?
                .save(dir, &responder_stem(kind))?;
        }
        Self::load(dir)
    }

    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self {
            auth: Hierarchy::load(dir, CaKind::Authentication)?,
            sign: Hierarchy::load(dir, CaKind::Signature)?,
        })
    }

    /// Whether `dir` holds both hierarchies' files.
    pub fn exist(dir: &Path) -> bool {
        CaKind::ALL.iter().all(|kind| {
            files::key_path(dir, &issuing_stem(*kind)).exists()
                && files::certificate_path(dir, &root_stem(*kind)).exists()
        })
    }

    pub fn get(&self, kind: CaKind) -> &Hierarchy {
        match kind {
            CaKind::Authentication => &self.auth,
            CaKind::Signature => &self.sign,
        }
    }

    /// A new OCSP responder for `kind` (a fresh key, certified by the issuing CA
    /// in `dir`), replacing the one there. Needs no root. Returns when it ends.
    pub fn renew_responder(dir: &Path, kind: CaKind, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let issuing = Authority::load(dir, &issuing_stem(kind), kind)?;
        let responder = issuing.issue_responder(now, RESPONDER_DAYS)?;
        responder.save(dir, &responder_stem(kind))?;
        Ok(responder.not_after())
    }
}
