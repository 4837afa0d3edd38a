//! `maina card login URL-or-CODE`: the desktop client of a sign-in with the card
//! (as the official client software is). It asks the provider which party the
//! challenge signs in to, verifies the PIN on the card in the PC/SC reader, signs
//! the challenge with the user-authentication key (or, with `--facts`, the
//! signature key) and posts the certificate and the signature. The provider's page
//! in the browser then continues by itself. It works the same with a real card.

use anyhow::{anyhow, bail, Context as _, Result};
use base64::Engine as _;
use maina_pki::{digest_info_sha256, sha256};
use maina_proto::{
    CardAnswerRequest, CardAnswerResponse, CardChallengeRequest, CardChallengeResponse,
};
use maina_reader::{JpkiKey, MyNumberCard, PcscTransport};

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// The challenge's URL (from the page's QR code: https://HOST/oidc/card#CODE),
    /// or the challenge's code as shown (then --server names the provider).
    pub target: String,
    /// The provider, when only a code is given.
    #[arg(
        long,
        env = "MAINA_SERVER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    #[arg(long)]
    pub reader: Option<String>,
    /// The PIN (asked at a prompt when not given): the 4-digit user-authentication
    /// PIN, or with --facts the signature PIN.
    #[arg(long, env = "MAINA_CARD_PIN", hide_env_values = true)]
    pub pin: Option<String>,
    /// Sign with the signature key: the party asks for the facts (name, address,
    /// birth date, sex), which the provider takes from the signature certificate.
    #[arg(long)]
    pub facts: bool,
}

/// The provider's base URL and the challenge.
fn target(args: &LoginArgs) -> Result<(String, String)> {
    let text = args.target.trim();
    if text.starts_with("http://") || text.starts_with("https://") {
        let (url, code) = text.split_once('#').ok_or_else(|| {
            anyhow!("the URL has no challenge after '#': copy it whole from the page")
        })?;
        let base = url
            .split_once("/oidc/card")
            .map(|(base, _)| base)
            .ok_or_else(|| anyhow!("not a sign-in challenge URL (…/oidc/card#CODE)"))?;
        return Ok((base.to_owned(), code.to_owned()));
    }
    Ok((
        args.server.trim_end_matches('/').to_owned(),
        text.to_owned(),
    ))
}

/// Posts JSON and reads the answer, or the provider's OAuth error.
async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
    body: &B,
) -> Result<T> {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("reaching {url}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .context("reading the provider's answer")?;
    if !status.is_success() {
        let reason = serde_json::from_str::<maina_proto::OidcError>(&text)
            .map(|e| format!("{}: {}", e.error, e.error_description))
            .unwrap_or(text);
        bail!("refused ({status}): {reason}");
    }
    serde_json::from_str(&text).context("the provider's answer")
}

pub async fn login(args: LoginArgs) -> Result<()> {
    let (base, code) = target(&args)?;
    let client = reqwest::Client::new();
    let info: CardChallengeResponse = post(
        &client,
        &format!("{base}/oidc/card/challenge"),
        &CardChallengeRequest { challenge: code },
    )
    .await?;
    eprintln!("signing in to: {}", info.client_name);
    let key = match (info.card_key.as_str(), args.facts) {
        ("sign", true) => JpkiKey::Signature,
        ("auth", false) => JpkiKey::Authentication,
        ("sign", false) => bail!(
            "{} asks for your name, address, birth date and sex: sign with the signature key (--facts)",
            info.client_name
        ),
        _ => bail!("{} asks only who you are: sign without --facts", info.client_name),
    };
    let transport = PcscTransport::connect(args.reader.as_deref())?;
    let mut card = MyNumberCard::new(transport);
    card.select_jpki()?;
    let pin = match args.pin {
        Some(pin) => pin,
        None => super::card_reader::prompt(match key {
            JpkiKey::Signature => "signature PIN",
            _ => "user-authentication PIN",
        })?,
    };
    card.jpki_verify(key, &pin)?;
    let certificate = card.read_der_file(key.certificate_file())?;
    let signature = card.jpki_sign(key, &digest_info_sha256(&sha256(info.challenge.as_bytes())))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let answer: CardAnswerResponse = post(
        &client,
        &format!("{base}/oidc/card/answer"),
        &CardAnswerRequest {
            challenge: info.challenge,
            certificate: b64.encode(certificate),
            signature: b64.encode(signature),
        },
    )
    .await?;
    println!(
        "signed in to {}: the page in your browser continues by itself",
        answer.client_name
    );
    Ok(())
}
