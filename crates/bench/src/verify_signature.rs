//! `maina bench verify-signature`: CMS signature verifications through the
//! signature-verification service's use case, in process (the same call the HTTP
//! handler makes: the verifier's credentials, the request's base64 and CMS parsed,
//! the content's digest, the certificate's chain (checked once per certificate),
//! the signature over the signed attributes, and the certificate's status read from
//! the store), on a store of N filler cards; beside it the bare in-process RSA-2048
//! verify rate on one core, and the ratio (the target: at least 70 %).

use crate::{bench_actor, scratch, BenchError, Result};
use base64::Engine as _;
use maina_pki::{sha256, sign_detached, CaKind, HolderFacts, SignRequest};
use maina_proto::SignatureVerifyRequest;
use maina_service::signatures::NewVerifier;
use std::time::{Duration, Instant};

fn refused(what: &str, error: impl std::fmt::Debug) -> BenchError {
    BenchError::Refused(format!("{what}: {error:?}"))
}

/// One signer: a resident with a signature certificate in the store, and a
/// signature (CMS, base64) over a document of their own.
async fn signers(
    store: &maina_store::Store,
    authorities: &maina_pki::Authorities,
    count: usize,
) -> Result<(Vec<SignatureVerifyRequest>, scratch::HeldCard)> {
    let issuing = authorities.get(CaKind::Signature).issuing();
    let now = chrono::Utc::now();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut requests = Vec::with_capacity(count);
    let mut last = None;
    for index in 0..count {
        let held = scratch::held_card(
            store,
            authorities,
            CaKind::Signature,
            index,
            (0x7100_0000_0000_0000, 0xD500_0000_0000_0000),
            Some(HolderFacts {
                name: format!("署名 {index}"),
                address: "東京都千代田区千代田1-1".into(),
                birth_date: "19900401".into(),
                sex: "2".into(),
            }),
        )
        .await?;
        let document = format!("a tax return of signer {index}");
        let cms = sign_detached(
            &SignRequest {
                content_digest: sha256(document.as_bytes()),
                signer_certificate: &held.certificate,
                chain: &[issuing.certificate_der().to_vec()],
                signing_time: Some(now),
            },
            &mut held.key.clone(),
        )?;
        requests.push(SignatureVerifyRequest {
            signature: Some(b64.encode(&cms)),
            pdf: None,
            content: None,
            content_sha256: Some(hex::encode(sha256(document.as_bytes()))),
        });
        last = Some(held);
    }
    let last = last.ok_or_else(|| BenchError::Refused("no signer".into()))?;
    Ok((requests, last))
}

pub async fn run(
    database: Option<&str>,
    cards: u64,
    signers_count: usize,
    verifications: u64,
) -> Result<()> {
    let (scratch, authorities) =
        scratch::with_authorities(database, "bench verify-signature", "bench-verify-").await?;
    let store = scratch.store.clone();
    let backend = store.backend().name();
    let started = Instant::now();
    store.bench_seed_cards(0, cards).await?;
    println!(
        "bench verify-signature ({backend}): {cards} filler cards seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (requests, last) = signers(&store, &authorities, signers_count.max(1)).await?;
    let state = maina_server::AppState::new(store.clone(), maina_server::ServerConfig::default())
        .with_authorities(authorities);
    let service = state.service().clone();
    let created = service
        .add_signature_verifier(
            &bench_actor(),
            &NewVerifier {
                name: "bench verifier".into(),
                sector: None,
                follow: true,
            },
        )
        .await
        .map_err(|e| refused("verifier", e))?;
    // Warm-up, untimed: each certificate's chain checked once.
    for request in &requests {
        let answer = service
            .verify_signature(&created.client_id, &created.client_secret, request)
            .await
            .map_err(|e| refused("verify", e))?;
        if !answer.valid || !answer.good_now {
            return Err(BenchError::Refused(format!("not valid: {answer:?}")));
        }
    }
    let begun = Instant::now();
    let mut done = 0u64;
    let mut times = Vec::with_capacity(usize::try_from(verifications).unwrap_or(0));
    for n in 0..verifications {
        let request = requests
            .get((n % requests.len() as u64) as usize)
            .ok_or_else(|| BenchError::Refused("no request".into()))?;
        let one = Instant::now();
        let answer = service
            .verify_signature(&created.client_id, &created.client_secret, request)
            .await
            .map_err(|e| refused("verify", e))?;
        times.push(one.elapsed());
        if !answer.valid {
            return Err(BenchError::Refused("a verification failed".into()));
        }
        done += 1;
    }
    let elapsed = begun.elapsed();
    times.sort();
    let pick = |q: f64| {
        let rank = ((times.len().max(1) as f64 - 1.0) * q).round() as usize;
        times
            .get(rank)
            .map_or(f64::NAN, |d: &Duration| d.as_secs_f64() * 1000.0)
    };
    let rate = done as f64 / elapsed.as_secs_f64();
    let bare = last.bare_verify_rate()?;
    println!(
        "  {rate:.0} CMS verifications/s with status checks ({done} in {:.2} s, one task, {} signers)",
        elapsed.as_secs_f64(),
        requests.len()
    );
    println!(
        "  a verification: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    println!("  bare RSA-2048 verify in process (one core): {bare:.0}/s");
    println!(
        "  ratio: {:.0} % of the bare rate (the issue's target: at least 70 %)",
        100.0 * rate / bare
    );
    drop(scratch);
    Ok(())
}
