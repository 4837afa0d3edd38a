//! The benchmarks' database: a fresh SQLite file in a temporary directory, or the
//! PostgreSQL database given with `--db`, opened with a random key.

use crate::{BenchError, Result, MUNICIPALITY};
use maina_store::{Keys, Municipality, Store};
use rand::RngCore;

/// An open benchmark store and the directory its SQLite file lives in (removed when
/// dropped, so it must outlive the store).
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

/// Opens the store of benchmark `name` (`bench numbering`, ...): SQLite in a new
/// directory named with `prefix`, unless `database` is a PostgreSQL URL.
pub async fn open(database: Option<&str>, name: &str, prefix: &str) -> Result<Scratch> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
    let url = match database {
        Some(url) if url.starts_with("postgres") => url.to_owned(),
        Some(url) => {
            return Err(BenchError::Refused(format!(
                "{name} makes its own SQLite file; --db takes a PostgreSQL URL here, not {url}"
            )))
        }
        None => maina_store::sqlite_url(&dir.path().join("bench.sqlite3")),
    };
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let store = Store::open(&url, &Keys::from_bytes(master)).await?;
    Ok(Scratch { dir, store })
}

/// Refuses a database that already holds residents: the benchmark's figures (and
/// its clean-up) assume only its own rows.
pub async fn ensure_empty(store: &Store) -> Result<()> {
    if store.resident_count().await? > 0 {
        return Err(BenchError::Refused(
            "the benchmark database already holds residents: give an empty database".into(),
        ));
    }
    Ok(())
}

/// Adds the benchmarks' municipality.
pub async fn add_municipality(store: &Store) -> Result<()> {
    store
        .put_municipality(&Municipality {
            code: MUNICIPALITY.parse()?,
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await?;
    Ok(())
}

/// An empty benchmark store with the municipality, and both card hierarchies made
/// in its scratch directory (the roots' keys apart, as `maina pki init` keeps them).
pub async fn with_authorities(
    database: Option<&str>,
    name: &str,
    prefix: &str,
) -> Result<(Scratch, maina_pki::Authorities)> {
    let scratch = open(database, name, prefix).await?;
    ensure_empty(&scratch.store).await?;
    add_municipality(&scratch.store).await?;
    let pki = scratch.dir.path();
    let authorities = maina_pki::Authorities::create(
        &pki.join("pki-root"),
        &pki.join("pki"),
        chrono::Utc::now(),
    )?;
    Ok((scratch, authorities))
}

/// A resident holding a card with one real certificate: the key pair (the bench
/// plays the chip), made by this process, and its certificate from the issuing CA
/// of `kind`, stored as the card's only certificate row.
pub struct HeldCard {
    pub key: maina_pki::KeyPair,
    pub certificate: Vec<u8>,
}

impl HeldCard {
    /// The bare in-process RSA-2048 verify rate on one core, for one second, with
    /// this card's key: the ceiling the benches print their rates beside.
    pub fn bare_verify_rate(&self) -> Result<f64> {
        let public = maina_pki::certificate_public_key(&self.certificate)?;
        let signature = self.key.sign_sha256(b"bench")?;
        let started = std::time::Instant::now();
        let mut done = 0u64;
        while started.elapsed() < std::time::Duration::from_secs(1) {
            for _ in 0..64 {
                if !public.verify_sha256(b"bench", &signature) {
                    return Err(BenchError::Refused("a verify failed".into()));
                }
            }
            done += 64;
        }
        Ok(done as f64 / started.elapsed().as_secs_f64())
    }
}

/// Registers resident `index` (synthetic) with card `card_base + index` and a
/// certificate of `kind` with serial `serial_base + index`, good from an hour ago
/// for a year, carrying `facts` (the signature certificate's four facts).
pub async fn held_card(
    store: &Store,
    authorities: &maina_pki::Authorities,
    kind: maina_pki::CaKind,
    index: usize,
    (serial_base, card_base): (u64, u64),
    facts: Option<maina_pki::HolderFacts>,
) -> Result<HeldCard> {
    let issuing = authorities.get(kind).issuing();
    let now = chrono::Utc::now();
    let registration = crate::synth::resident(index as u64, MUNICIPALITY).parse(crate::today())?;
    let registered = store.register(registration, &crate::bench_actor()).await?;
    let key = maina_pki::KeyPair::generate()?;
    let serial = maina_pki::Serial::from_hex(&format!("{:016X}", serial_base + index as u64))?;
    let (not_before, not_after) = (
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(365),
    );
    let issued = issuing.issue(&maina_pki::CertificateRequest {
        serial: serial.clone(),
        public_key_der: key.public_key_der()?,
        subject_cn: format!("bench card {index}"),
        not_before,
        not_after,
        facts,
        ocsp_url: None,
        crl_url: None,
    })?;
    store
        .put_card(
            &format!("{:016X}", card_base + index as u64),
            Some(registered.resident_key),
            b"bench chip",
            &[maina_store::NewCertificate {
                serial: serial.to_hex(),
                ca: kind.code().into(),
                not_before: not_before.timestamp(),
                not_after: not_after.timestamp(),
                der: issued.der.clone(),
            }],
            &crate::bench_actor(),
        )
        .await?;
    Ok(HeldCard {
        key,
        certificate: issued.der,
    })
}
