//! `maina bench signin`: complete sign-ins with the card through the OpenID Connect
//! provider's use cases, in process (the same service calls the HTTP handlers
//! make), on a store of national size: N filler cards with their certificates and
//! a CRL of M revoked serials, plus one real card (an RSA-2048 key pair and its
//! certificate from the issuing CA) per client. Each sign-in: the authorization
//! request and its challenge (timed); the card's signature (made in a phase of its
//! own, untimed: it is the card's work, not the server's); the answer's checks
//! (chain, the certificate's status and the card's state from the store), the code,
//! the token exchange with PKCE and client_secret_basic, the ID token signed and
//! the sign-in recorded (timed). Prints sign-ins/s and p50/p99 of a sign-in's
//! server time, beside the bare RSA-2048 verify rate in process.

use crate::scratch::HeldCard as RealCard;
use crate::{bench_actor, scratch, BenchError, Result};
use maina_pki::CaKind;
use maina_service::oidc::{AuthorizeParams, ContinueOutcome, NewParty, TokenRequest};
use maina_service::Service;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ISSUER: &str = "https://bench.invalid";
const REDIRECT: &str = "https://rp.bench.invalid/callback";
const VERIFIER: &str = "the-bench-pkce-verifier-that-is-long-enough-0123456789abcdef";

/// One sign-in in flight between the phases.
struct Pending {
    card: usize,
    request_id: String,
    challenge: String,
    browser: [u8; 32],
    signature: Vec<u8>,
    server_time: Duration,
}

fn refused(what: &str, error: impl std::fmt::Debug) -> BenchError {
    BenchError::Refused(format!("{what}: {error:?}"))
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn real_cards(
    store: &maina_store::Store,
    authorities: &maina_pki::Authorities,
    count: usize,
) -> Result<Vec<RealCard>> {
    let mut cards = Vec::with_capacity(count);
    for index in 0..count {
        cards.push(
            scratch::held_card(
                store,
                authorities,
                CaKind::Authentication,
                index,
                (0x7000_0000_0000_0000, 0xB000_0000_0000_0000),
                None,
            )
            .await?,
        );
    }
    Ok(cards)
}

/// The authorization request (timed): answers the request in flight.
async fn authorize(service: &Service, client_id: &str, card: usize, n: u64) -> Result<Pending> {
    let mut browser = [0u8; 32];
    browser[..8].copy_from_slice(&n.to_be_bytes());
    let params = AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(client_id.into()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some("openid".into()),
        state: Some(format!("s{n}")),
        nonce: Some(format!("n{n}")),
        code_challenge: Some(b64url(&maina_pki::sha256(VERIFIER.as_bytes()))),
        code_challenge_method: Some("S256".into()),
        prompt: None,
    };
    let started = Instant::now();
    let view = service
        .oidc_authorize(&params, browser, ISSUER)
        .await
        .map_err(|e| refused("authorize", e))?;
    Ok(Pending {
        card,
        request_id: view.id,
        challenge: view.challenge,
        browser,
        signature: Vec::new(),
        server_time: started.elapsed(),
    })
}

/// The answer, the code and the token exchange (timed).
async fn finish(
    service: &Service,
    party: &(String, String),
    cards: &[RealCard],
    pending: &mut Pending,
    consent: bool,
) -> Result<()> {
    let card = cards
        .get(pending.card)
        .ok_or_else(|| BenchError::Refused("no such card".into()))?;
    let started = Instant::now();
    service
        .oidc_answer(&pending.challenge, &card.certificate, &pending.signature)
        .await
        .map_err(|e| refused("answer", e))?;
    let redirect = match service
        .oidc_continue(&pending.request_id, &pending.browser, ISSUER)
        .await
        .map_err(|e| refused("continue", e))?
    {
        ContinueOutcome::Redirect(url) => url,
        ContinueOutcome::Consent { .. } if consent => service
            .oidc_consent(&pending.request_id, &pending.browser, true, ISSUER)
            .await
            .map_err(|e| refused("consent", e))?,
        ContinueOutcome::Consent { .. } => {
            return Err(BenchError::Refused(
                "consent asked after the warm-up".into(),
            ))
        }
    };
    let code = url::Url::parse(&redirect)
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(name, _)| name == "code")
                .map(|(_, value)| value.into_owned())
        })
        .ok_or_else(|| BenchError::Refused(format!("no code in {redirect}")))?;
    let tokens = service
        .oidc_token(
            &TokenRequest {
                grant_type: Some("authorization_code".into()),
                code: Some(code),
                redirect_uri: Some(REDIRECT.into()),
                code_verifier: Some(VERIFIER.into()),
                basic: Some(party.clone()),
                ..Default::default()
            },
            ISSUER,
        )
        .await
        .map_err(|e| refused("token", e))?;
    if tokens.id_token.split('.').count() != 3 {
        return Err(BenchError::Refused("not a signed ID token".into()));
    }
    pending.server_time += started.elapsed();
    Ok(())
}

/// Runs `work` over `items` with `clients` concurrent tasks; answers the results.
async fn in_parallel<T, U, F, Fut>(items: Vec<T>, clients: usize, work: F) -> Result<Vec<U>>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<U>> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter()));
    let work = Arc::new(work);
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (queue, work) = (queue.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some(item) = next else { break };
                done.push(work(item).await?);
            }
            Ok::<_, BenchError>(done)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.map_err(|e| refused("task", e))??);
    }
    Ok(all)
}

fn sign_all(cards: &[RealCard], pending: &mut [Pending]) -> Result<()> {
    for item in pending.iter_mut() {
        let card = cards
            .get(item.card)
            .ok_or_else(|| BenchError::Refused("no such card".into()))?;
        let text = maina_service::oidc::canonical_challenge(&item.challenge)
            .ok_or_else(|| BenchError::Refused("a challenge the provider cannot read".into()))?;
        item.signature = card.key.sign_sha256(text.as_bytes())?;
    }
    Ok(())
}

pub async fn run(
    database: Option<&str>,
    cards: u64,
    revoked: u64,
    signins: u64,
    clients: usize,
) -> Result<()> {
    let (scratch, authorities) =
        scratch::with_authorities(database, "bench signin", "bench-signin-").await?;
    let store = scratch.store.clone();
    let backend = store.backend().name();
    let started = Instant::now();
    store
        .bench_seed_revoked("auth", 0x4000_0000_0000_0000, revoked)
        .await?;
    store.bench_seed_cards(0, cards).await?;
    println!(
        "bench signin ({backend}): {cards} cards and {revoked} revoked serials seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let real = Arc::new(real_cards(&store, &authorities, clients.max(1)).await?);
    let state = maina_server::AppState::new(store.clone(), maina_server::ServerConfig::default())
        .with_authorities(authorities);
    let service = Arc::new(state.service().clone());
    let created = service
        .add_relying_party(
            &bench_actor(),
            &NewParty {
                name: "bench party".into(),
                redirect_uris: vec![REDIRECT.into()],
                ..Default::default()
            },
        )
        .await
        .map_err(|e| refused("relying party", e))?;
    let party = Arc::new((created.client_id.clone(), created.client_secret));
    let client_id = Arc::new(created.client_id);

    // Warm-up, untimed: each card signs in once and consents.
    let mut warm = Vec::new();
    for card in 0..real.len() {
        warm.push(authorize(&service, &client_id, card, card as u64).await?);
    }
    sign_all(&real, &mut warm)?;
    for pending in &mut warm {
        finish(&service, &party, &real, pending, true).await?;
    }

    println!(
        "  {signins} sign-ins by {clients} clients, {} cards ...",
        real.len()
    );
    let items: Vec<(usize, u64)> = (0..signins)
        .map(|n| ((n % real.len() as u64) as usize, n + 1_000_000))
        .collect();
    let begun = Instant::now();
    let mut pending = {
        let (service, client_id) = (service.clone(), client_id.clone());
        in_parallel(items, clients, move |(card, n)| {
            let (service, client_id) = (service.clone(), client_id.clone());
            async move { authorize(&service, &client_id, card, n).await }
        })
        .await?
    };
    let authorizing = begun.elapsed();
    sign_all(&real, &mut pending)?;
    let begun = Instant::now();
    let done = {
        let (service, party, real) = (service.clone(), party.clone(), real.clone());
        in_parallel(pending, clients, move |mut item| {
            let (service, party, real) = (service.clone(), party.clone(), real.clone());
            async move {
                finish(&service, &party, &real, &mut item, false).await?;
                Ok(item)
            }
        })
        .await?
    };
    let server = authorizing + begun.elapsed();
    let mut times: Vec<Duration> = done.iter().map(|item| item.server_time).collect();
    times.sort();
    let pick = |q: f64| {
        let rank = ((times.len().max(1) as f64 - 1.0) * q).round() as usize;
        times
            .get(rank)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "  {:.0} sign-ins/s ({} in {:.2} s of server time; the cards' signatures apart)",
        done.len() as f64 / server.as_secs_f64(),
        done.len(),
        server.as_secs_f64()
    );
    println!(
        "  a sign-in's server time: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    println!(
        "  bare RSA-2048 verify in process (one core): {:.0}/s",
        verify_rate(&real)?
    );
    println!("  (the issue's target: at least 5,000 sign-ins/s, p99 under 20 ms)");
    Ok(())
}

/// The bare verify rate with the first card's key.
fn verify_rate(cards: &[RealCard]) -> Result<f64> {
    cards
        .first()
        .ok_or_else(|| BenchError::Refused("no card".into()))?
        .bare_verify_rate()
}
