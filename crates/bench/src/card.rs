//! `maina bench auth` and `maina bench apdu`: the card PKI's and the card link's
//! figures.

use crate::{BenchError, Result};
use chrono::{Duration, Utc};
use maina_pki::{
    digest_info_sha256, sha256, Authority, CaKind, CachedVerifier, CertificateRequest, KeyPair,
    PublicKey, Revocation, RevocationReason, Serial, TrustStore,
};
use maina_reader::{MyNumberCard, PcscTransport};
use std::time::Instant;

/// Runs `check` on this thread for `seconds`; returns checks per second.
fn rate(seconds: f64, mut check: impl FnMut() -> bool) -> Result<f64> {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..64 {
            if !check() {
                return Err(BenchError::Refused(
                    "a check failed during the benchmark".into(),
                ));
            }
        }
        done += 64;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// `openssl speed rsa2048`'s verify rate (one core): the ceiling.
fn openssl_speed(seconds: u64) -> Result<f64> {
    let output = std::process::Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "rsa2048"])
        .output()
        .map_err(|e| {
            BenchError::Tool(format!(
                "running `openssl speed` (Debian's openssl package): {e}"
            ))
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|line| line.starts_with("rsa") && line.contains("2048"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| BenchError::Tool(format!("could not read openssl speed's output:\n{text}")))
}

pub fn auth(revoked: u64, seconds: u64) -> Result<()> {
    let seconds_f = seconds as f64;
    let now = Utc::now();
    let ca = Authority::create(CaKind::Authentication, now - Duration::days(1), 10)?;
    let sign_ca = Authority::create(CaKind::Signature, now - Duration::days(1), 10)?;
    let card_key = KeyPair::generate()?;
    let certificate = ca
        .issue(&CertificateRequest {
            serial: Serial::random()?,
            public_key_der: card_key.public_key_der()?,
            subject_cn: "JPKI auth bench".into(),
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(365),
            facts: None,
            ocsp_url: None,
            crl_url: None,
        })?
        .der;

    let started = Instant::now();
    let entries = (0..revoked)
        .map(|_| {
            Ok(Revocation {
                serial: Serial::random()?,
                revoked_at: now - Duration::hours(2),
                reason: RevocationReason::LostCard,
            })
        })
        .collect::<Result<Vec<_>, maina_pki::PkiError>>()?;
    let crl = ca.crl(
        &entries,
        1,
        now - Duration::minutes(1),
        now + Duration::days(1),
    )?;
    drop(entries);
    let made = started.elapsed();
    let started = Instant::now();
    let mut trust = TrustStore::new(ca.certificate_der(), sign_ca.certificate_der())?;
    let listed = trust
        .load_crl(&crl, now)
        .map_err(|e| BenchError::Refused(format!("loading the CRL: {e}")))?;
    let loaded = started.elapsed();
    println!(
        "CRL: {listed} revoked serials, {:.1} MB; signed in {:.2} s, checked and loaded in {:.2} s",
        crl.len() as f64 / 1e6,
        made.as_secs_f64(),
        loaded.as_secs_f64()
    );
    drop(crl);

    let challenge = [7u8; 32];
    let signature = card_key.sign_digest_info(&digest_info_sha256(&sha256(&challenge)))?;
    let key = PublicKey::from_spki_der(&card_key.public_key_der()?)?;
    let bare = rate(seconds_f, || key.verify_sha256(&challenge, &signature))?;
    let cold = rate(seconds_f, || {
        trust
            .verify_authentication(&certificate, &challenge, &signature, now)
            .is_ok()
    })?;
    let mut cached = CachedVerifier::new(trust);
    let warm = rate(seconds_f, || {
        cached
            .verify_authentication(&certificate, &challenge, &signature, now)
            .is_ok()
    })?;
    let ceiling = openssl_speed(seconds)?;
    println!("one core, {seconds} s each:");
    println!("  openssl speed rsa2048 verify (ceiling)    {ceiling:>10.0} /s");
    println!(
        "  one RSA-2048 verify, in process            {bare:>10.0} /s  ({:.0}% of openssl)",
        100.0 * bare / ceiling
    );
    println!(
        "  authentication check, certificate seen before (signature + revocation, chain cached)\n                                             {warm:>10.0} /s  ({:.0}% of openssl)",
        100.0 * warm / ceiling
    );
    println!(
        "  authentication check, new certificate (chain + validity + revocation + signature: two RSA verifies)\n                                             {cold:>10.0} /s  ({:.0}% of openssl)",
        100.0 * cold / ceiling
    );
    Ok(())
}

pub fn apdu(count: u32, reader: Option<&str>) -> Result<()> {
    let transport = PcscTransport::connect(reader)?;
    println!("reader: {}", transport.reader);
    let mut card = MyNumberCard::new(transport);
    card.select_jpki()?;
    card.select_file(0x0018)?;
    let mut times = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let started = Instant::now();
        let answer = card.send(&[0x00, 0x20, 0x00, 0x80])?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        if answer.status & 0xFFF0 != 0x63C0 {
            return Err(BenchError::Refused(format!(
                "unexpected status {:04X}",
                answer.status
            )));
        }
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    println!(
        "{count} APDUs (VERIFY, PIN status) through PC/SC: mean {mean:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    Ok(())
}
