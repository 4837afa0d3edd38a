//! `maina card ...`: making cards, listing, showing and revoking them, attaching one
//! to a PC/SC reader through vpcd; the reader-side commands (read, sign, auth) are
//! in [`card_reader`](super::card_reader).

use crate::commands::{card_reader, format_micros, pki};
use crate::context::Context;
use anyhow::{anyhow, bail, Result};
use chrono::Utc;
use clap::Subcommand;
use maina_card::vpcd::{self, LinkEvent};
use maina_card::Card;
use maina_core::card::{Pin, PinKind};
use maina_core::{MyNumber, ResidentCode};
use maina_pki::RevocationReason;
use maina_service::cards::{CardHolder, CardPins};
use maina_store::Store;
use rand::Rng;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum CardCommand {
    /// Make a card for a resident (or a demonstration card): keys generated inside
    /// it, certificates from both authorities, the four PINs set. Prints the card id.
    Create(CreateArgs),
    /// The card bureau's job: make cards for approved applications, oldest first
    /// (chip with keys generated inside it, PINs unset; expiry; card number; the
    /// face rendered and sealed), shipped in numbered shipments to each
    /// municipality. Safe to kill and run again.
    Manufacture(super::card_manufacture::ManufactureArgs),
    /// List the cards.
    List,
    /// Show a card: status, certificates, PIN tries left.
    Show { card_id: String },
    /// A card's state, certificates and history: every state change, PIN reset,
    /// chip update and notes-panel entry, with who, when and why.
    History {
        card_id: String,
        /// The language of the entries' names: en | ja.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// Abolish a card: its certificates revoked, the card can never be used again.
    Revoke {
        card_id: String,
        /// lost-card | card-ended | holders-request | death | number-changed | facts-changed
        #[arg(long)]
        reason: String,
    },
    /// Apply for a new card replacing CARD (lost, damaged, notes panel full, or the
    /// renewal from 3 months before its end), with the fee taken. The old card is
    /// abolished when the new one is handed over.
    Reissue(super::card_renewal::ReissueArgs),
    /// When CARD's renewal can be applied for.
    RenewalWindow { card_id: String },
    /// Write the expiry letters (有効期限通知書) of the cards (or certificates)
    /// ending within --within, once per card and end, as PDFs.
    Expiring(super::card_renewal::ExpiringArgs),
    /// Connect a card to pcscd through vsmartcard's vpcd, so PC/SC programs see it in
    /// the "Virtual PCD" reader. Runs until interrupted.
    Attach {
        card_id: String,
        /// vpcd's address.
        #[arg(long, default_value = vpcd::DEFAULT_ADDRESS)]
        vpcd: String,
    },
    /// Read a card in a PC/SC reader: token, certificates, PIN tries left; with the
    /// card-information PIN also the four facts, their issuer signature checked.
    Read {
        /// Reader name (default: the first reader holding a card).
        #[arg(long)]
        reader: Option<String>,
        /// The card-information-input-support PIN (4 digits): also read the facts.
        #[arg(long, env = "MAINA_SUPPORT_PIN", hide_env_values = true)]
        support_pin: Option<String>,
    },
    /// Open the PIN pad for the reset of one PIN (identity documents checked):
    /// prints the pairing code for /pinpad.
    PinResetPad(super::card_counter::PinResetPadArgs),
    /// Reset (the new PIN from the PIN pad, or typed) or unblock one PIN of the
    /// card in the reader, by the issuer's protected command.
    ResetPin(super::card_counter::ResetPinArgs),
    /// Rewrite the chip's facts (support and residence APs) from the registry,
    /// after the residence PIN.
    UpdateChip(super::card_counter::UpdateChipArgs),
    /// Renew the certificates on the same chip: new keys generated on it, the old
    /// certificates revoked (renewed).
    RenewCertificates(super::card_counter::RenewArgs),
    /// Sign a file with the card's signature key: a CMS detached signature
    /// (CAdES-BES) in FILE.p7s that `openssl cms -verify` and `maina verify` check;
    /// with --pdf, a PAdES signed copy of a PDF (FILE-signed.pdf).
    Sign {
        file: PathBuf,
        /// Where to write the signature [default: FILE.p7s, FILE-signed.pdf with
        /// --pdf, FILE.sig with --pem].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign a PDF inside it (PAdES B-B: an incremental update that `pdfsig`
        /// and PDF readers check).
        #[arg(long, conflicts_with = "pem")]
        pdf: bool,
        /// The old format: the bare signature and the certificate as PEM blocks.
        #[arg(long)]
        pem: bool,
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
    /// Show a card's notes panel (追記欄), whether it is full, and the signature certificate.
    Notes(super::card_moving::NotesArgs),
    /// Write a card's face as the holder's card looks now, notes panel included (PDF).
    Face(super::card_moving::FaceArgs),
    /// Register a move-out with the card (転入届の特例) at the holder's municipality.
    MoveOut(super::card_moving::MoveOutArgs),
    /// The move-in at the destination with the card: the registry's move, the card
    /// kept (continued use due in 90 days) or voided when late.
    MoveIn(super::card_moving::MoveInArgs),
    /// Confirm continued use (継続利用) at the new municipality, the card present.
    ContinuedUse(super::card_moving::ContinuedUseArgs),
    /// Void the cards whose move deadline passed and abolish those of foreign
    /// residents whose period of stay ended (for cron; `maina serve` runs it hourly).
    EndOverdue,
    /// Suspend a card reported lost or stolen: its authentication certificate on
    /// hold (certificateHold), its signature certificate revoked.
    Suspend {
        card_id: String,
        /// The police report's receipt number, when given.
        #[arg(long)]
        police_receipt: Option<String>,
        /// The police station that took the report.
        #[arg(long)]
        police_station: Option<String>,
    },
    /// Sign in to a relying party with the card in a PC/SC reader: answer the
    /// one-time challenge a sign-in page shows (its URL or its code).
    Login(super::card_login::LoginArgs),
    /// Lift a suspension (the card found), at the counter with the card in the
    /// reader: it signs the service's one-time challenge with its authentication key.
    Lift {
        card_id: String,
        /// The authentication PIN (asked at a prompt when not given).
        #[arg(long, env = "MAINA_AUTH_PIN", hide_env_values = true)]
        pin: Option<String>,
        #[arg(long)]
        reader: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
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
}

pub async fn run(context: &Context, command: CardCommand) -> Result<()> {
    match command {
        CardCommand::Read {
            reader,
            support_pin,
        } => {
            card_reader::read(reader.as_deref())?;
            match support_pin {
                Some(pin) => super::card_counter::read_facts(reader.as_deref(), &pin),
                None => Ok(()),
            }
        }
        CardCommand::PinResetPad(args) => super::card_counter::pin_reset_pad(context, args).await,
        CardCommand::ResetPin(args) => super::card_counter::reset_pin(context, args).await,
        CardCommand::UpdateChip(args) => super::card_counter::update_chip(context, args).await,
        CardCommand::RenewCertificates(args) => super::card_counter::renew(context, args).await,
        CardCommand::Sign {
            file,
            out,
            pdf,
            pem,
            pin,
            reader,
        } => {
            let format = match (pdf, pem) {
                (true, _) => card_reader::SignFormat::Pdf,
                (false, true) => card_reader::SignFormat::Pem,
                (false, false) => card_reader::SignFormat::Cms,
            };
            card_reader::sign(&file, out, format, pin, reader.as_deref())
        }
        CardCommand::Auth { pin, reader } => {
            card_reader::authenticate(context, pin, reader.as_deref()).await
        }
        CardCommand::Suspend {
            card_id,
            police_receipt,
            police_station,
        } => {
            super::card_suspension::suspend(
                context,
                &card_id,
                police_receipt.as_deref(),
                police_station.as_deref(),
            )
            .await
        }
        CardCommand::Login(args) => super::card_login::login(args).await,
        CardCommand::Lift {
            card_id,
            pin,
            reader,
        } => super::card_suspension::lift(context, &card_id, pin, reader.as_deref()).await,
        CardCommand::Create(args) => {
            context
                .with_store(async |store| create(context, store, args).await)
                .await
        }
        CardCommand::Manufacture(args) => super::card_manufacture::run(context, args).await,
        CardCommand::Reissue(args) => super::card_renewal::reissue(context, args).await,
        CardCommand::RenewalWindow { card_id } => {
            super::card_renewal::renewal_window(context, card_id).await
        }
        CardCommand::Expiring(args) => super::card_renewal::expiring(context, args).await,
        CardCommand::List => context.with_store(list).await,
        CardCommand::History { card_id, lang } => {
            super::card_history::run(context, &card_id, &lang).await
        }
        CardCommand::Show { card_id } => {
            context
                .with_store(async |store| show(context, store, &card_id).await)
                .await
        }
        CardCommand::Revoke { card_id, reason } => {
            context
                .with_store(async |store| {
                    let reason = RevocationReason::from_code(&reason).ok_or_else(|| {
                        anyhow!("reason: expected one of lost-card, card-ended, holders-request, death, number-changed, facts-changed")
                    })?;
                    let serials = store.revoke_card(&card_id, reason, &context.who()).await?;
                    // The CRLs list it at once (a running server's CRL worker would
                    // within seconds).
                    if maina_pki::Authorities::exist(&context.pki_dir()) {
                        let authorities = pki::load_authorities(context)?;
                        maina_service::cards::refresh_crls(store, &authorities).await?;
                    }
                    println!(
                        "card {card_id} revoked ({}): {} certificate(s) now on the CRLs",
                        reason.code(),
                        serials.len()
                    );
                    Ok(())
                })
                .await
        }
        CardCommand::Notes(args) => super::card_moving::notes(context, args).await,
        CardCommand::Face(args) => super::card_moving::face(context, args).await,
        CardCommand::MoveOut(args) => super::card_moving::move_out(context, args).await,
        CardCommand::MoveIn(args) => super::card_moving::move_in(context, args).await,
        CardCommand::ContinuedUse(args) => super::card_moving::continued_use(context, args).await,
        CardCommand::EndOverdue => super::card_moving::end_overdue(context).await,
        CardCommand::Attach { card_id, vpcd } => {
            context
                .with_store(async |store| attach(store, &card_id, &vpcd).await)
                .await
        }
    }
}

/// A PIN from a flag or a prompt, checked against its rule.
fn pin(kind: PinKind, given: Option<String>, label: &str) -> Result<Pin> {
    let text = match given {
        Some(text) => text,
        None => card_reader::prompt(label)?,
    };
    Pin::new(kind, &text).map_err(|e| anyhow!("{}: {e}", kind.code()))
}

/// A synthetic holder (not in the registry) with random numbers.
fn demo_holder() -> Result<CardHolder> {
    let mut rng = rand::thread_rng();
    let index = rng.gen_range(0..1_000_000u64);
    let registration = maina_bench::synth::resident(index, super::demo::DEMO_MUNICIPALITY)
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

/// The holder of a new card: an active resident of the registry.
async fn resident_holder(store: &Store, resident: Option<&str>) -> Result<CardHolder> {
    let code: ResidentCode = resident
        .unwrap_or_default()
        .parse()
        .map_err(|e| anyhow!("resident: {e}"))?;
    let view = store.resident_by_code(&code).await?;
    if view.status != maina_core::resident::ResidentStatus::Active {
        bail!("resident: {} is not an active resident", code.as_digits());
    }
    Ok(CardHolder {
        resident_key: Some(view.resident_key),
        my_number: view.my_number,
        resident_code: code,
        name: view.record.person.name.to_string(),
        address: view.record.address.as_str().to_owned(),
        birth_date: view.record.person.birth_date,
        sex: view.record.person.sex,
    })
}

async fn create(context: &Context, store: &Store, args: CreateArgs) -> Result<()> {
    let authorities = pki::load_authorities(context)?;
    let holder = if args.demo {
        demo_holder()?
    } else {
        resident_holder(store, args.resident.as_deref()).await?
    };
    let pins = CardPins {
        authentication: pin(
            PinKind::Authentication,
            args.auth_pin,
            "user-authentication PIN (4 digits)",
        )?,
        signature: pin(
            PinKind::Signature,
            args.sign_pin,
            "signature password (6-16 A-Z/0-9)",
        )?,
        residence: pin(
            PinKind::Residence,
            args.residence_pin,
            "residence PIN (4 digits)",
        )?,
        support: pin(
            PinKind::Support,
            args.support_pin,
            "card-information PIN (4 digits)",
        )?,
    };
    let issued = maina_service::cards::issue_card(
        store,
        &authorities,
        &holder,
        &pins,
        &args.base_url,
        &context.who(),
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
    Ok(())
}

async fn list(store: &Store) -> Result<()> {
    println!(
        "{:<16}  {:<8}  {:<11}  created",
        "card", "status", "resident"
    );
    for card in store.cards().await? {
        let resident = match card.resident_key {
            Some(key) => store.authority().resident_code(key)?.as_digits(),
            None => "(demo)".into(),
        };
        let created = format_micros(card.created_at, "%Y-%m-%d %H:%M");
        println!(
            "{:<16}  {:<8}  {:<11}  {created}",
            card.id, card.status, resident
        );
    }
    Ok(())
}

async fn show(context: &Context, store: &Store, card_id: &str) -> Result<()> {
    let (record, chip) = store.card(card_id).await?;
    store
        .audit(&context.who(), "card.show", record.resident_key)
        .await?;
    let card = Card::from_bytes(&chip)?;
    println!("card {}  status {}", record.id, record.status);
    for certificate in store.card_certificates(card_id).await? {
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
    Ok(())
}

/// Loads the card and keeps it attached to vpcd (on a blocking thread: the link is
/// blocking I/O) until the process is stopped; every changed PIN counter is saved,
/// if no other process saved the card since it was read (else this one stops: two
/// attached copies must not each count PIN tries from the same number).
async fn attach(store: &Store, card_id: &str, address: &str) -> Result<()> {
    let (record, chip) = store.card(card_id).await?;
    let mut version = record.chip_version;
    let mut card = Card::from_bytes(&chip)?;
    let runtime = tokio::runtime::Handle::current();
    let store = store.clone();
    let card_id = card_id.to_owned();
    let address = address.to_owned();
    let link = tokio::task::spawn_blocking(move || {
        vpcd::attach(
            &mut card,
            &address,
            |content| match runtime.block_on(store.save_chip(&card_id, content, version)) {
                Ok(saved) => {
                    version = saved;
                    Ok(())
                }
                Err(maina_store::StoreError::Conflict) => Err(std::io::Error::other(format!(
                    "card {card_id} was saved by another process (another `maina card attach`?); \
                     this one stops without answering: attach the card again"
                ))),
                Err(error) => Err(std::io::Error::other(error.to_string())),
            },
            |event| {
                match event {
                LinkEvent::Waiting(error) => eprintln!(
                    "waiting for vpcd at {address}: {error} (is pcscd running with vsmartcard-vpcd?)"
                ),
                LinkEvent::Attached => println!("card {card_id} attached to vpcd at {address}"),
                LinkEvent::Closed => eprintln!("vpcd closed the connection; reconnecting"),
                LinkEvent::Failed(error) => eprintln!("vpcd connection: {error}; reconnecting"),
            }
            },
        )
    });
    match link.await?? {}
}
