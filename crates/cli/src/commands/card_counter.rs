//! The counter's work on a card's chip with the card in a PC/SC reader (issue 13):
//! `maina card pin-reset-pad` (the PIN pad opened for one PIN; prints the pairing
//! code), `reset-pin`, `update-chip`, `renew-certificates`, and the four facts
//! read by `maina card read --support-pin`.
//!
//! Like `maina pickup hand-over`, these commands call the use cases on the store
//! directly (the counter PC of a scripted office); the card's APDUs go through the
//! reader, and the issuer's commands are built by the service for the chip's own
//! challenge. The console's part (opening the PIN pad) is also on the JSON API.

use crate::commands::{card_reader, pki};
use crate::context::Context;
use anyhow::{anyhow, bail, Result};
use maina_card::issuer::{digest_matches, parse_signed_facts};
use maina_card::personalise::ApduTransport;
use maina_card::tlv;
use maina_pki::{sha256, PublicKey};
use maina_proto::PinResetOpenRequest;
use maina_reader::{JpkiKey, MyNumberCard, PcscTransport, ReaderError, Transport};
use maina_service::card_life::NewPin;
use maina_service::{Service, ServiceConfig, ServiceError};
use zeroize::Zeroizing;

/// The card in the counter's reader, as the service's link to the chip.
struct CounterReader(PcscTransport);

impl ApduTransport for CounterReader {
    type Error = ReaderError;
    fn transmit_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        self.0.transmit(apdu)
    }
}

fn connect(reader: Option<&str>) -> Result<CounterReader> {
    Ok(CounterReader(PcscTransport::connect(reader)?))
}

fn refused(error: ServiceError) -> anyhow::Error {
    match error.field {
        Some(field) => anyhow!("{field}: {}", error.message),
        None => anyhow!("{}", error.message),
    }
}

#[derive(clap::Args, Debug)]
pub struct PinResetPadArgs {
    pub card_id: String,
    /// Which PIN: auth | sign | residence | support.
    #[arg(long)]
    pub pin: String,
    /// An identity document of the holder checked (repeat): passport,
    /// drivers-licence, residence-card, health-insurance-card, ...
    #[arg(long = "document")]
    pub documents: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct ResetPinArgs {
    pub card_id: String,
    /// Which PIN: auth | sign | residence | support.
    #[arg(long)]
    pub pin: String,
    /// An identity document of the holder checked (repeat).
    #[arg(long = "document")]
    pub documents: Vec<String>,
    /// Only unblock: the tries back to their maximum, the PIN kept.
    #[arg(long, conflicts_with = "typed")]
    pub unblock: bool,
    /// The resident types the new PIN at this PC's prompt (twice) instead of on
    /// the PIN pad.
    #[arg(long)]
    pub typed: bool,
    /// Reader name (default: the first reader holding a card).
    #[arg(long)]
    pub reader: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UpdateChipArgs {
    pub card_id: String,
    /// The residence PIN, typed by the resident (asked at a prompt when not given).
    #[arg(long, env = "MAINA_RESIDENCE_PIN", hide_env_values = true)]
    pub residence_pin: Option<String>,
    #[arg(long)]
    pub reader: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct RenewArgs {
    pub card_id: String,
    /// Only a new signature certificate (offered after a name or address change
    /// revoked the old one).
    #[arg(long)]
    pub signature_only: bool,
    /// Where relying parties reach this server (OCSP and CRL addresses in the
    /// certificates).
    #[arg(long, env = "MAINA_BASE_URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    #[arg(long)]
    pub reader: Option<String>,
}

async fn with_service<T>(
    context: &Context,
    work: impl AsyncFnOnce(&Service) -> Result<T>,
) -> Result<T> {
    let authorities = pki::load_authorities(context)?;
    context
        .with_store(async |store| {
            let service =
                Service::new(store.clone(), ServiceConfig::default()).with_authorities(authorities);
            work(&service).await
        })
        .await
}

pub async fn pin_reset_pad(context: &Context, args: PinResetPadArgs) -> Result<()> {
    with_service(context, async |service| {
        let opened = service
            .open_pin_reset(
                &context.who(),
                &PinResetOpenRequest {
                    card_id: args.card_id.clone(),
                    pin: args.pin.clone(),
                    documents: args.documents.clone(),
                },
            )
            .await
            .map_err(refused)?;
        println!("{}", opened.code);
        eprintln!(
            "PIN pad open for the {} PIN of card {} until {}: the resident types the code on /pinpad",
            args.pin, args.card_id, opened.expires_at
        );
        Ok(())
    })
    .await
}

pub async fn reset_pin(context: &Context, args: ResetPinArgs) -> Result<()> {
    let new = if args.unblock {
        NewPin::Unblock
    } else if args.typed {
        let first = Zeroizing::new(card_reader::prompt("new PIN")?);
        let again = Zeroizing::new(card_reader::prompt("new PIN again")?);
        if !first.trim().eq_ignore_ascii_case(again.trim()) {
            bail!("new_pin: the two entries differ");
        }
        NewPin::Typed(first)
    } else {
        NewPin::FromPinpad
    };
    let mut link = connect(args.reader.as_deref())?;
    with_service(context, async |service| {
        let done = service
            .reset_pin(
                &context.who(),
                &args.card_id,
                &args.pin,
                new,
                &args.documents,
                &mut link,
            )
            .await
            .map_err(refused)?;
        println!(
            "card {}: {} PIN {}",
            done.card_id,
            done.pin,
            if done.done == "unblocked" {
                "unblocked"
            } else {
                "reset to the new PIN"
            }
        );
        Ok(())
    })
    .await
}

pub async fn update_chip(context: &Context, args: UpdateChipArgs) -> Result<()> {
    let pin = Zeroizing::new(match args.residence_pin {
        Some(pin) => pin,
        None => card_reader::prompt("residence PIN (typed by the resident)")?,
    });
    let mut link = connect(args.reader.as_deref())?;
    with_service(context, async |service| {
        let done = service
            .update_chip(&context.who(), &args.card_id, &pin, &mut link)
            .await
            .map_err(refused)?;
        println!(
            "card {}: the chip's facts rewritten ({}); address: {}",
            done.card_id,
            done.files.join(", "),
            done.address
        );
        Ok(())
    })
    .await
}

pub async fn renew(context: &Context, args: RenewArgs) -> Result<()> {
    let mut link = connect(args.reader.as_deref())?;
    with_service(context, async |service| {
        let done = service
            .renew_certificates(
                &context.who(),
                &args.card_id,
                args.signature_only,
                &args.base_url,
                &mut link,
            )
            .await
            .map_err(refused)?;
        if let Some(authorities) = service.authorities.as_ref() {
            // The CRLs list the old certificates at once.
            maina_service::cards::refresh_crls(&service.store, authorities).await?;
        }
        println!(
            "card {}: new certificates until {}: authentication {}, signature {}; revoked (renewed): {}",
            done.card_id,
            done.expires_on,
            done.authentication_serial.as_deref().unwrap_or("kept"),
            done.signature_serial.as_deref().unwrap_or("none"),
            if done.revoked.is_empty() {
                "none".to_owned()
            } else {
                done.revoked.join(", ")
            }
        );
        Ok(())
    })
    .await
}

/// `maina card read --support-pin`: the four facts from the support AP, with the
/// issuer's signature over their digests checked against the authentication CA
/// certificate the chip carries. The My Number file is read only to be hashed.
pub fn read_facts(reader: Option<&str>, pin: &str) -> Result<()> {
    let mut card = MyNumberCard::new(PcscTransport::connect(reader)?);
    card.select_jpki()?;
    let ca = card.read_der_file(JpkiKey::Authentication.ca_certificate_file())?;
    let files = card.support_files(pin)?;
    let inner = tlv::values(&files.facts, &[0xFF, 0x20])
        .ok_or_else(|| anyhow!("the facts file is not the expected TLV"))?;
    let text = |tag: u8| {
        tlv::values(inner, &[0xDF, tag])
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    println!("name: {}", text(0x22));
    println!("address: {}", text(0x23));
    println!("birth date: {}", text(0x24));
    println!("sex: {}", text(0x25));
    let verdict = match files.signed.as_deref().and_then(|signed| {
        parse_signed_facts(signed).map(|(digests, signature)| (signed, digests, signature))
    }) {
        None => "none (a card made before the issuer's signature)".to_owned(),
        Some((signed, digests, signature)) => {
            let key = PublicKey::from_certificate_der(&ca)?;
            let signed_ok = key.verify_sha256(&digests, &signature);
            let facts_ok = digest_matches(signed, [0xDF, 0x31], &files.facts);
            let number_ok = digest_matches(signed, [0xDF, 0x30], &files.number);
            match (signed_ok, facts_ok && number_ok) {
                (true, true) => format!(
                    "valid (authentication CA certificate on the chip, SHA-256 {})",
                    hex::encode(sha256(&ca))
                ),
                (false, _) => "INVALID: the signature does not verify".to_owned(),
                (true, false) => "INVALID: the facts differ from what was signed".to_owned(),
            }
        }
    };
    println!("issuer signature: {verdict}");
    if verdict.starts_with("INVALID") {
        bail!("the chip's facts fail the issuer's signature");
    }
    Ok(())
}
