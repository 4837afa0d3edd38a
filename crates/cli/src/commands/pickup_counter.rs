//! `maina pickup hand-over CARD --document passport ...`: the counter's steps for
//! scripted offices and tests, through the same use cases as the console and the
//! API: a PIN pad session opened, the four PINs read from standard input (one per
//! line: auth, sign, residence, support) and set on the chip, the documents checked,
//! the certificates issued, the card handed over.

use crate::commands::pki;
use crate::context::Context;
use anyhow::{anyhow, Result};
use maina_proto::{HandOverRequest, PinpadPinsRequest};
use maina_service::{Service, ServiceConfig, ServiceError};
use std::io::BufRead;
use zeroize::Zeroizing;

#[derive(clap::Args, Debug)]
pub struct HandOverArgs {
    /// The card id (16 hexadecimal digits) or the issue notice's number (16
    /// digits, as printed).
    pub card: String,
    /// An identity document of the holder checked (repeat): passport,
    /// drivers-licence, residence-card, health-insurance-card, pension-book, ...
    #[arg(long = "document")]
    pub documents: Vec<String>,
    /// A proxy collects the card, for this reason: age-75-plus, under-16, illness,
    /// hospital-stay, disability, care-facility, pregnancy, long-stay-abroad.
    #[arg(long)]
    pub proxy_reason: Option<String>,
    /// The proxy's own document (repeat).
    #[arg(long = "proxy-document")]
    pub proxy_documents: Vec<String>,
    /// The proof of the proxy's reason was seen.
    #[arg(long)]
    pub proxy_reason_proof: bool,
    /// The legal representative's document (repeat; under-15s, adult wards).
    #[arg(long = "representative-document")]
    pub representative_documents: Vec<String>,
    /// The proof of the representative's authority was seen.
    #[arg(long)]
    pub representative_authority_proof: bool,
    /// The holder is an adult ward (no signature certificate).
    #[arg(long)]
    pub adult_ward: bool,
    /// A card surrendered (repeat): basic-resident-registration-card,
    /// notification-card.
    #[arg(long = "surrender")]
    pub surrendered: Vec<String>,
    /// The holder declines the electronic certificates.
    #[arg(long)]
    pub decline_certificates: bool,
    /// Where relying parties reach this server (OCSP and CRL addresses in the
    /// certificates).
    #[arg(long, env = "MAINA_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
}

fn refused(error: ServiceError) -> anyhow::Error {
    match error.field {
        Some(field) => anyhow!("{field}: {}", error.message),
        None => anyhow!("{}", error.message),
    }
}

/// The four PINs from standard input, one per line.
fn read_pins() -> Result<[Zeroizing<String>; 4]> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut next = |name: &str| -> Result<Zeroizing<String>> {
        let line = lines
            .next()
            .ok_or_else(|| anyhow!("standard input: the {name} PIN is missing (one PIN per line: auth, sign, residence, support)"))??;
        Ok(Zeroizing::new(line.trim().to_owned()))
    };
    Ok([
        next("auth")?,
        next("sign")?,
        next("residence")?,
        next("support")?,
    ])
}

pub async fn hand_over(context: &Context, args: HandOverArgs) -> Result<()> {
    let authorities = pki::load_authorities(context)?;
    let [auth, sign, residence, support] = read_pins()?;
    context
        .with_store(async |store| {
            let service =
                Service::new(store.clone(), ServiceConfig::default()).with_authorities(authorities);
            let actor = context.who();
            let card = service
                .find_counter_card(&actor, &args.card)
                .await
                .map_err(refused)?;
            if !card.pins_set {
                let opened = service
                    .open_pinpad(&actor, &card.card_id)
                    .await
                    .map_err(refused)?;
                let request = PinpadPinsRequest {
                    code: opened.code,
                    auth_pin: auth.to_string(),
                    auth_pin_again: auth.to_string(),
                    sign_pin: sign.to_string(),
                    sign_pin_again: sign.to_string(),
                    residence_pin: residence.to_string(),
                    residence_pin_again: residence.to_string(),
                    support_pin: support.to_string(),
                    support_pin_again: support.to_string(),
                };
                service.pinpad_set(&request, std::net::IpAddr::from([127, 0, 0, 1])).await.map_err(refused)?;
                eprintln!("PINs set on card {}", card.card_id);
            }
            let request = HandOverRequest {
                documents: args.documents,
                proxy_reason: args.proxy_reason,
                proxy_documents: args.proxy_documents,
                proxy_reason_proof: args.proxy_reason_proof,
                representative_documents: args.representative_documents,
                representative_authority_proof: args.representative_authority_proof,
                adult_ward: args.adult_ward,
                surrendered: args.surrendered,
                decline_certificates: args.decline_certificates,
                express_fee_yen: None,
            };
            let done = service
                .hand_over(&actor, &card.card_id, &request, &args.base_url)
                .await
                .map_err(refused)?;
            println!("{}", done.card_id);
            eprintln!(
                "card {} handed over (card {}, application {}); certificates: authentication {}, signature {}",
                done.card_id,
                done.card_status,
                done.application_status,
                done.authentication_serial.as_deref().unwrap_or("none"),
                done.signature_serial.as_deref().unwrap_or("none"),
            );
            Ok(())
        })
        .await
}
