//! `maina card ...`, `maina pki ...` and `maina verify`: making cards, attaching them
//! to a PC/SC reader through vpcd, and the client commands that use any card (the
//! emulated one or a real My Number card) through PC/SC.

use crate::Context;
use anyhow::{anyhow, bail, Context as _, Result};
use base64::Engine as _;
use chrono::Utc;
use clap::Subcommand;
use maina_card::Card;
use maina_core::card::{Pin, PinKind};
use maina_core::{MyNumber, ResidentCode};
use maina_pki::{digest_info_sha256, sha256, Authorities, CaKind, RevocationReason};
use maina_reader::{JpkiKey, MyNumberCard, PcscTransport};
use maina_server::pki::{CardHolder, CardPins};
use rand::Rng;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Subcommand, Debug)]
pub enum CardCommand {
    /// Make a card for a resident (or a demonstration card): keys generated inside
    /// it, certificates from both authorities, the four PINs set. Prints the card id.
    Create {
        /// The holder's resident record code.
        #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
        resident: Option<String>,
        /// A card of a synthetic person (not in the registry), for trying things out.
        #[arg(long)]
        demo: bool,
        /// User-authentication PIN, 4 digits (asked at a prompt when not given).
        #[arg(long, env = "MAINA_AUTH_PIN", hide_env_values = true)]
        auth_pin: Option<String>,
        /// Signature password, 6-16 of A-Z and 0-9 with a letter and a digit.
        #[arg(long, env = "MAINA_SIGN_PIN", hide_env_values = true)]
        sign_pin: Option<String>,
        /// Residence-information PIN, 4 digits.
        #[arg(long, env = "MAINA_RESIDENCE_PIN", hide_env_values = true)]
        residence_pin: Option<String>,
        /// Card-information-input-support PIN, 4 digits.
        #[arg(long, env = "MAINA_SUPPORT_PIN", hide_env_values = true)]
        support_pin: Option<String>,
        /// Where relying parties reach this server (OCSP and CRL addresses in the
        /// certificates).
        #[arg(long, env = "MAINA_BASE_URL", default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
    /// List the cards.
    List,
    /// Show a card: status, certificates, PIN tries left.
    Show { card_id: String },
    /// Revoke a card's certificates.
    Revoke {
        card_id: String,
        /// lost-card | card-ended | holders-request | death | number-changed | facts-changed
        #[arg(long)]
        reason: String,
    },
    /// Connect a card to pcscd through vsmartcard's vpcd, so PC/SC programs see it in
    /// the "Virtual PCD" reader. Runs until interrupted.
    Attach {
        card_id: String,
        /// vpcd's address.
        #[arg(long, default_value = "127.0.0.1:35963")]
        vpcd: String,
    },
    /// Read a card in a PC/SC reader: token, certificates, PIN tries left.
    Read {
        /// Reader name (default: the first reader holding a card).
        #[arg(long)]
        reader: Option<String>,
    },
    /// Sign a file with the card's signature key; writes FILE.sig (a detached
    /// signature with the signature certificate) for `maina verify`.
    Sign {
        file: PathBuf,
        /// Where to write the signature [default: FILE.sig].
        #[arg(long)]
        out: Option<PathBuf>,
        /// The signature password (asked at a prompt when not given).
        #[arg(long, env = "MAINA_SIGN_PIN", hide_env_values = true)]
        pin: Option<String>,
        #[arg(long)]
        reader: Option<String>,
    },
    /// Authenticate the card holder: the card signs a fresh challenge with its
    /// authentication key, and the answer is checked against the CA and CRL.
    Auth {
        /// The authentication PIN (asked at a prompt when not given).
        #[arg(long, env = "MAINA_AUTH_PIN", hide_env_values = true)]
        pin: Option<String>,
        #[arg(long)]
        reader: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Create the two card authorities in DATA/pki (done by `maina init`; for data
    /// directories made before).
    Init,
    /// Write an authority's current CRL (DER).
    Crl {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write an authority's certificate (PEM).
    CaCert {
        /// auth | sign
        #[arg(long)]
        ca: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn pki_dir(context: &Context) -> PathBuf {
    context.data.join("pki")
}

/// The authorities of the data directory.
pub fn load_authorities(context: &Context) -> Result<Authorities> {
    let dir = pki_dir(context);
    if !Authorities::exist(&dir) {
        bail!(
            "no card authorities in {}: run `maina pki init`",
            dir.display()
        );
    }
    Authorities::load(&dir).with_context(|| format!("loading the authorities in {}", dir.display()))
}

/// Creates both authorities in the data directory.
pub fn init_authorities(context: &Context) -> Result<()> {
    let dir = pki_dir(context);
    Authorities::create(&dir, Utc::now())
        .with_context(|| format!("creating the authorities in {}", dir.display()))?;
    println!(
        "  card authorities: {} (keys readable by their owner only; an HSM can take them later)",
        dir.display()
    );
    Ok(())
}

fn parse_kind(code: &str) -> Result<CaKind> {
    CaKind::from_code(code).ok_or_else(|| anyhow!("ca: expected auth or sign, got {code:?}"))
}

/// A PIN from a flag or a prompt, checked against its rule.
fn pin(kind: PinKind, given: Option<String>, label: &str) -> Result<Pin> {
    let text = match given {
        Some(text) => text,
        None => rpassword::prompt_password(format!("{label}: "))
            .with_context(|| format!("reading the {label}"))?,
    };
    Pin::new(kind, &text).map_err(|e| anyhow!("{}: {e}", kind.code()))
}

fn demo_holder() -> Result<CardHolder> {
    let mut rng = rand::thread_rng();
    let index = rng.gen_range(0..1_000_000u64);
    let registration = crate::synth::resident(index, "131016")
        .parse(Utc::now().date_naive())
        .map_err(|e| anyhow!("{e}"))?;
    let mut number = [0u8; 11];
    number.iter_mut().for_each(|d| *d = rng.gen_range(0..10));
    let mut code = [0u8; 10];
    code.iter_mut().for_each(|d| *d = rng.gen_range(0..10));
    Ok(CardHolder {
        resident_key: None,
        my_number: MyNumber::from_payload(number)?,
        resident_code: ResidentCode::from_payload(code)?,
        name: registration.person.name.to_string(),
        address: registration.address.as_str().to_owned(),
        birth_date: registration.person.birth_date,
        sex: registration.person.sex,
    })
}

fn reader(name: Option<&str>) -> Result<MyNumberCard<PcscTransport>> {
    let transport = PcscTransport::connect(name)?;
    Ok(MyNumberCard::new(transport))
}

pub async fn run(context: &Context, command: CardCommand) -> Result<()> {
    match command {
        CardCommand::Read { reader: name } => return read(name.as_deref()),
        CardCommand::Sign {
            file,
            out,
            pin: given,
            reader: name,
        } => return sign(&file, out, given, name.as_deref()),
        _ => {}
    }
    let store = context.open().await?;
    let who = context.who();
    match command {
        CardCommand::Create {
            resident,
            demo,
            auth_pin,
            sign_pin,
            residence_pin,
            support_pin,
            base_url,
        } => {
            let authorities = load_authorities(context)?;
            let holder = if demo {
                demo_holder()?
            } else {
                let code: ResidentCode = resident
                    .as_deref()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| anyhow!("resident: {e}"))?;
                let view = store.resident_by_code(&code).await?;
                if view.status != maina_core::resident::ResidentStatus::Active {
                    bail!("resident: {} is not an active resident", code.as_digits());
                }
                CardHolder {
                    resident_key: Some(view.resident_key),
                    my_number: view.my_number,
                    resident_code: code,
                    name: view.record.person.name.to_string(),
                    address: view.record.address.as_str().to_owned(),
                    birth_date: view.record.person.birth_date,
                    sex: view.record.person.sex,
                }
            };
            let pins = CardPins {
                authentication: pin(
                    PinKind::Authentication,
                    auth_pin,
                    "user-authentication PIN (4 digits)",
                )?,
                signature: pin(
                    PinKind::Signature,
                    sign_pin,
                    "signature password (6-16 A-Z/0-9)",
                )?,
                residence: pin(
                    PinKind::Residence,
                    residence_pin,
                    "residence PIN (4 digits)",
                )?,
                support: pin(
                    PinKind::Support,
                    support_pin,
                    "card-information PIN (4 digits)",
                )?,
            };
            let issued = maina_server::pki::issue_card(
                &store,
                &authorities,
                &holder,
                &pins,
                &base_url,
                &who,
            )
            .await?;
            println!("{}", issued.card_id);
            eprintln!(
                "card {} for {} ({}); certificates until {}: authentication {}, signature {}",
                issued.card_id,
                holder.resident_code.masked(),
                holder.my_number.masked(),
                issued.certificates_expire,
                issued.authentication_serial,
                issued
                    .signature_serial
                    .map_or_else(|| "none (holder under 15)".to_owned(), |s| s.to_hex())
            );
        }
        CardCommand::List => {
            println!(
                "{:<16}  {:<8}  {:<11}  created",
                "card", "status", "resident"
            );
            for card in store.cards().await? {
                let resident = match card.resident_key {
                    Some(key) => store.authority().resident_code(key)?.as_digits(),
                    None => "(demo)".into(),
                };
                let created = chrono::DateTime::from_timestamp_micros(card.created_at)
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                println!(
                    "{:<16}  {:<8}  {:<11}  {created}",
                    card.id, card.status, resident
                );
            }
        }
        CardCommand::Show { card_id } => {
            let (record, chip) = store.card(&card_id).await?;
            store.audit(&who, "card.show", record.resident_key).await?;
            let card = Card::from_bytes(&chip)?;
            println!("card {}  status {}", record.id, record.status);
            for certificate in store.card_certificates(&card_id).await? {
                let until = chrono::DateTime::from_timestamp(certificate.not_after, 0)
                    .map(|t| t.date_naive().to_string())
                    .unwrap_or_default();
                let revoked = match (&certificate.revoked_at, &certificate.reason) {
                    (Some(_), Some(reason)) => format!("  REVOKED ({reason})"),
                    _ => String::new(),
                };
                println!(
                    "  certificate {} {} until {until}{revoked}",
                    certificate.ca, certificate.serial
                );
            }
            for state in card.pin_states() {
                println!(
                    "  PIN {:<10} {}/{} tries left{}",
                    state.slot.code(),
                    state.tries_left,
                    state.max_tries,
                    if state.tries_left == 0 {
                        "  BLOCKED"
                    } else {
                        ""
                    }
                );
            }
        }
        CardCommand::Revoke { card_id, reason } => {
            let reason = RevocationReason::from_code(&reason).ok_or_else(|| {
                anyhow!("reason: expected one of lost-card, card-ended, holders-request, death, number-changed, facts-changed")
            })?;
            let serials = store.revoke_card(&card_id, reason, &who).await?;
            println!(
                "card {card_id} revoked ({}): {} certificate(s) now on the CRLs",
                reason.code(),
                serials.len()
            );
        }
        CardCommand::Attach { card_id, vpcd } => attach(&store, &card_id, &vpcd).await?,
        CardCommand::Auth {
            pin: given,
            reader: name,
        } => {
            let authorities = load_authorities(context)?;
            let trust = maina_server::pki::trust_store(&store, &authorities).await?;
            let mut card = reader(name.as_deref())?;
            card.select_jpki()?;
            let certificate = card.read_der_file(JpkiKey::Authentication.certificate_file())?;
            let pin = match given {
                Some(pin) => pin,
                None => rpassword::prompt_password("user-authentication PIN: ")?,
            };
            card.jpki_verify(JpkiKey::Authentication, &pin)?;
            let mut challenge = [0u8; 32];
            rand::thread_rng().fill(&mut challenge);
            let signature = card.jpki_sign(
                JpkiKey::Authentication,
                &digest_info_sha256(&sha256(&challenge)),
            )?;
            let valid = trust
                .verify_authentication(&certificate, &challenge, &signature, Utc::now())
                .map_err(|e| anyhow!("authentication failed: {e}"))?;
            println!(
                "authenticated: {} (certificate {}, valid until {}, not revoked)",
                valid.subject,
                valid.serial,
                valid.not_after.date_naive()
            );
        }
        CardCommand::Read { .. } | CardCommand::Sign { .. } => {}
    }
    store.close().await;
    Ok(())
}

pub async fn run_pki(context: &Context, command: PkiCommand) -> Result<()> {
    match command {
        PkiCommand::Init => init_authorities(context),
        PkiCommand::Crl { ca, out } => {
            let kind = parse_kind(&ca)?;
            let authorities = load_authorities(context)?;
            let store = context.open().await?;
            let der = maina_server::pki::current_crl(&store, &authorities, kind).await?;
            store.close().await;
            std::fs::write(&out, der).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote the {} CRL to {}", kind.code(), out.display());
            Ok(())
        }
        PkiCommand::CaCert { ca, out } => {
            let kind = parse_kind(&ca)?;
            let authorities = load_authorities(context)?;
            std::fs::write(&out, authorities.get(kind).certificate_pem()?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote the {} CA certificate to {}",
                kind.code(),
                out.display()
            );
            Ok(())
        }
    }
}

fn read(name: Option<&str>) -> Result<()> {
    let mut card = reader(name)?;
    card.select_jpki()?;
    println!("token: {}", card.jpki_token()?);
    for (label, fid) in [
        (
            "authentication certificate",
            JpkiKey::Authentication.certificate_file(),
        ),
        (
            "authentication CA certificate",
            JpkiKey::Authentication.ca_certificate_file(),
        ),
        (
            "signature CA certificate",
            JpkiKey::Signature.ca_certificate_file(),
        ),
    ] {
        let der = card.read_der_file(fid)?;
        println!(
            "{label}: {} bytes, SHA-256 {}",
            der.len(),
            hex::encode(sha256(&der))
        );
    }
    println!("signature certificate: readable only after the signature password");
    for (label, key) in [
        ("authentication PIN", JpkiKey::Authentication),
        ("signature password", JpkiKey::Signature),
    ] {
        let left = card.jpki_tries_left(key)?;
        println!(
            "{label}: {left} tries left{}",
            if left == 0 { " (BLOCKED)" } else { "" }
        );
    }
    Ok(())
}

const SIGNATURE_LABEL: &str = "MAINA SIGNATURE";

fn pem_block(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn pem_find(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text.get(start..)?.find(&end)?;
    let body: String = text.get(start..stop)?.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

fn sign(
    file: &Path,
    out: Option<PathBuf>,
    given: Option<String>,
    name: Option<&str>,
) -> Result<()> {
    let document = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut card = reader(name)?;
    card.select_jpki()?;
    let pin = match given {
        Some(pin) => pin,
        None => rpassword::prompt_password("signature password: ")?,
    };
    card.jpki_verify(JpkiKey::Signature, &pin)?;
    let certificate = card.read_der_file(JpkiKey::Signature.certificate_file())?;
    let signature = card.jpki_sign(JpkiKey::Signature, &digest_info_sha256(&sha256(&document)))?;
    let out = out.unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(".sig");
        PathBuf::from(name)
    });
    let text = format!(
        "{}{}",
        pem_block(SIGNATURE_LABEL, &signature),
        pem_block("CERTIFICATE", &certificate)
    );
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("signed {} -> {}", file.display(), out.display());
    Ok(())
}

/// `maina verify FILE SIGNATURE`: the signature, the certificate chain, its validity
/// and its revocation status (from this registry's current CRL).
pub async fn verify(context: &Context, file: &Path, signature_file: &Path) -> Result<()> {
    let document = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = std::fs::read_to_string(signature_file)
        .with_context(|| format!("reading {}", signature_file.display()))?;
    let signature = pem_find(&text, SIGNATURE_LABEL)
        .ok_or_else(|| anyhow!("{}: no {SIGNATURE_LABEL} block", signature_file.display()))?;
    let certificate = pem_find(&text, "CERTIFICATE")
        .ok_or_else(|| anyhow!("{}: no CERTIFICATE block", signature_file.display()))?;
    let authorities = load_authorities(context)?;
    let store = context.open().await?;
    let trust = maina_server::pki::trust_store(&store, &authorities).await?;
    store.close().await;
    let valid = trust
        .verify_document(&certificate, &document, &signature, Utc::now())
        .map_err(|e| anyhow!("signature NOT valid: {e}"))?;
    let facts = valid
        .facts
        .map(|f| format!(" — {} ({}), born {}", f.name, f.address, f.birth_date))
        .unwrap_or_default();
    println!(
        "signature valid: signed by {}{facts}; certificate {} valid until {}, not revoked",
        valid.subject,
        valid.serial,
        valid.not_after.date_naive()
    );
    Ok(())
}

/// Re-arms TCP_QUICKACK: Debian's vpcd writes a frame's length and body separately,
/// and without an immediate ACK every command waits ~40 ms for the delayed ACK.
fn quickack(stream: &tokio::net::TcpStream) {
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

async fn attach(store: &maina_store::Store, card_id: &str, vpcd: &str) -> Result<()> {
    let (_, chip) = store.card(card_id).await?;
    let mut card = Card::from_bytes(&chip)?;
    let mut announced = false;
    loop {
        let mut stream = match tokio::net::TcpStream::connect(vpcd).await {
            Ok(stream) => stream,
            Err(error) => {
                if !announced {
                    eprintln!("waiting for vpcd at {vpcd}: {error} (is pcscd running with vsmartcard-vpcd?)");
                    announced = true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
        };
        stream.set_nodelay(true)?;
        println!("card {card_id} attached to vpcd at {vpcd}");
        announced = false;
        match serve_vpcd(store, card_id, &mut card, &mut stream).await {
            Ok(()) => eprintln!("vpcd closed the connection; reconnecting"),
            Err(error) => eprintln!("vpcd connection: {error:#}; reconnecting"),
        }
        card.power_off();
    }
}

async fn serve_vpcd(
    store: &maina_store::Store,
    card_id: &str,
    card: &mut Card,
    stream: &mut tokio::net::TcpStream,
) -> Result<()> {
    loop {
        quickack(stream);
        let mut header = [0u8; 2];
        if stream.read_exact(&mut header).await.is_err() {
            return Ok(());
        }
        let len = usize::from(u16::from_be_bytes(header));
        let mut payload = vec![0u8; len];
        quickack(stream);
        stream.read_exact(&mut payload).await?;
        let reply = match payload.as_slice() {
            [0] => {
                card.power_off();
                None
            }
            [1] | [2] => {
                card.power_on();
                None
            }
            // vpcd asks for the ATR when it polls for the card too: answering must
            // not reset the session.
            [4] => Some(maina_card::ATR.to_vec()),
            [_] => None,
            apdu => {
                let response = card.transmit(apdu);
                // A changed PIN counter is saved before the answer leaves: pulling
                // the card (or killing maina) cannot give back a try.
                if card.is_dirty() {
                    store.save_chip(card_id, &card.to_bytes()?).await?;
                    card.mark_saved();
                }
                Some(response)
            }
        };
        if let Some(reply) = reply {
            let len = u16::try_from(reply.len()).map_err(|_| anyhow!("response too long"))?;
            let mut frame = Vec::with_capacity(reply.len() + 2);
            frame.extend_from_slice(&len.to_be_bytes());
            frame.extend_from_slice(&reply);
            stream.write_all(&frame).await?;
        }
    }
}
