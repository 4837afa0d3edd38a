//! The card bureau's manufacturing job: approved applications, oldest first, become
//! cards — a chip with its keys generated inside it (PINs unset until the counter),
//! an expiry, a card number and a rendered face — shipped in numbered shipments to
//! their municipality. Batches are transactions (see `maina_store::manufacture`): the
//! job is safe to kill and run again.
//!
//! The chips' keys are the cost (two RSA-2048 key generations a card), so each batch
//! is made on every core at once, off the async workers.

use super::face::{render_face_pdf, CardFace};
use super::CardServiceError;
use chrono::{NaiveDate, Utc};
use krilla::text::Font;
use maina_card::issuer::CardKey;
use maina_card::{Card, Personalisation};
use maina_core::card::{card_expiry, signature_certificate_allowed, StayLimit};
use maina_core::officer::Actor;
use maina_core::person::{Citizenship, Name};
use maina_core::resident::Person;
use maina_core::resident::ResidentStatus;
use maina_core::{CardNumber, MunicipalityCode};
use maina_store::{ApplicationRecord, ManufacturedCard, ShipmentRecord, Store, StoreError};
use std::collections::BTreeMap;

/// How much to make.
#[derive(Debug, Clone)]
pub struct ManufactureOptions {
    pub municipality: Option<MunicipalityCode>,
    /// At most this many cards in this run.
    pub limit: usize,
    /// Cards per transaction (and per shipment).
    pub batch: usize,
    /// The day of issue (the card's "issue date"), in Japan.
    pub today: NaiveDate,
}

/// An application the job could not make a card for; it stays approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub application_id: u64,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct ManufactureReport {
    pub shipments: Vec<ShipmentRecord>,
    pub made: usize,
    pub rejected: Vec<Rejected>,
}

/// Everything needed to make one card, read before the CPU-bound work.
struct Order {
    application: ApplicationRecord,
    card_number: CardNumber,
    face: CardFace,
    resident_code: String,
    with_signature: bool,
}

/// Runs the job until `options.limit` cards are made or nothing is left; `progress`
/// is told after each batch (cards made, rejected so far).
pub async fn manufacture(
    store: &Store,
    font: &Font,
    actor: &Actor,
    options: &ManufactureOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<ManufactureReport, CardServiceError> {
    let mut report = ManufactureReport::default();
    let batch = options.batch.max(1);
    let names: BTreeMap<String, String> = store
        .municipalities()
        .await?
        .into_iter()
        .map(|m| (m.code.as_digits(), m.name_ja))
        .collect();
    while report.made < options.limit {
        let want = batch.min(options.limit - report.made);
        let applications = store
            .applications_to_manufacture(options.municipality.as_ref(), report.rejected.len(), want)
            .await?;
        if applications.is_empty() {
            break;
        }
        let numbers = store.reserve_card_numbers(applications.len()).await?;
        let mut orders = Vec::with_capacity(applications.len());
        for (application, card_number) in applications.into_iter().zip(numbers) {
            match order(
                store,
                application.clone(),
                card_number,
                options.today,
                &names,
            )
            .await
            {
                Ok(order) => orders.push(order),
                Err(reason) => report.rejected.push(Rejected {
                    application_id: application.id,
                    reason,
                }),
            }
        }
        let made = make_all(store, orders, font.clone()).await?;
        let mut by_municipality: BTreeMap<String, Vec<ManufacturedCard>> = BTreeMap::new();
        for (municipality, card) in made {
            by_municipality.entry(municipality).or_default().push(card);
        }
        for (municipality, cards) in by_municipality {
            let code: MunicipalityCode = municipality
                .parse()
                .map_err(|e| CardServiceError::Invalid(format!("municipality: {e}")))?;
            match store.ship_cards(&code, &cards, actor).await {
                Ok(shipment) => {
                    report.made += cards.len();
                    report.shipments.push(shipment);
                }
                // Another run took some of these applications first: this batch is
                // not recorded, and the next query no longer finds theirs.
                Err(StoreError::Conflict) => {}
                Err(error) => return Err(error.into()),
            }
        }
        progress(report.made, report.rejected.len());
    }
    Ok(report)
}

/// Reads what one card needs, or why it cannot be made.
async fn order(
    store: &Store,
    application: ApplicationRecord,
    card_number: CardNumber,
    today: NaiveDate,
    municipality_names: &BTreeMap<String, String>,
) -> Result<Order, String> {
    let view = match store.resident(application.resident_key).await {
        Ok(view) => view,
        Err(StoreError::NotFound(_)) => return Err("the resident record is gone".into()),
        Err(error) => return Err(error.to_string()),
    };
    if view.status != ResidentStatus::Active {
        return Err(format!(
            "the resident is no longer an active resident ({:?})",
            view.status
        )
        .to_lowercase());
    }
    let person = &view.record.person;
    let expires = card_expires(person, today)?;
    let photo = store
        .application_photo(application.id)
        .await
        .map_err(|e| e.to_string())?;
    // The Braille is of the name's reading (kana), or the alphabet name.
    let (name, alias, reading) = match &person.name {
        Name::Foreign {
            alphabet, alias, ..
        } => (alphabet.clone(), alias.clone(), alphabet.clone()),
        Name::Japanese {
            family_kana,
            given_kana,
            ..
        } => (
            person.name.to_string(),
            None,
            format!("{family_kana} {given_kana}"),
        ),
    };
    let face = CardFace {
        name: name.clone(),
        alias,
        address: view.record.address.as_str().to_owned(),
        birth_date: person.birth_date,
        japanese_national: matches!(person.citizenship, Citizenship::Japanese),
        sex: person.sex,
        photo_jpeg: photo,
        expires,
        notes: Vec::new(),
        my_number: view.my_number,
        card_number,
        braille: application.details.braille.then_some(reading),
        municipality_name: municipality_names
            .get(&application.municipality)
            .cloned()
            .unwrap_or_else(|| application.municipality.clone()),
    };
    Ok(Order {
        with_signature: signature_certificate_allowed(person.birth_date, today),
        resident_code: view.resident_code.as_digits(),
        application,
        card_number,
        face,
    })
}

/// Makes the chips and faces of a batch on every core.
async fn make_all(
    store: &Store,
    orders: Vec<Order>,
    font: Font,
) -> Result<Vec<(String, ManufacturedCard)>, CardServiceError> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = orders.len().div_ceil(cores).max(1);
    let mut chunks: Vec<Vec<Order>> = Vec::new();
    let mut orders = orders.into_iter().peekable();
    while orders.peek().is_some() {
        chunks.push(orders.by_ref().take(chunk).collect());
    }
    let mut tasks = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        let font = font.clone();
        let store = store.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|order| make_one(order, &font, &store))
                .collect::<Result<Vec<_>, CardServiceError>>()
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        let cards = task.await.map_err(|e| {
            CardServiceError::Invalid(format!("a manufacturing thread failed: {e}"))
        })??;
        made.extend(cards);
    }
    Ok(made)
}

fn make_one(
    order: Order,
    font: &Font,
    store: &Store,
) -> Result<(String, ManufacturedCard), CardServiceError> {
    let card_id = super::new_card_id();
    let face = &order.face;
    let (mut card, _public) = Card::manufacture(
        &card_id,
        &Personalisation {
            my_number: &face.my_number.as_digits(),
            name: &face.name,
            address: &face.address,
            birth_date: &face.birth_date.format("%Y%m%d").to_string(),
            sex: &face.sex.iso5218().to_string(),
            resident_code: &order.resident_code,
            pins: None,
            with_signature: order.with_signature,
        },
    )?;
    // The issuer key: what lets the counter reset a PIN or rewrite the facts later.
    card.install_issuer_key(&CardKey::new(*store.card_issuer_key(&card_id)))?;
    let rendered = render_face_pdf(font, face)
        .map_err(|e| CardServiceError::Invalid(format!("card face: {e}")))?;
    Ok((
        order.application.municipality.clone(),
        ManufacturedCard {
            application_id: order.application.id,
            application_version: order.application.version,
            resident_key: order.application.resident_key,
            card_id,
            card_number: order.card_number,
            expires_on: face.expires,
            chip: card.to_bytes()?,
            face: rendered,
            certificates: Vec::new(),
        },
    ))
}

/// The card's last day for `person` issued `today`, or why no card can be made.
fn card_expires(person: &Person, today: NaiveDate) -> Result<NaiveDate, String> {
    let stay = StayLimit::of(&person.citizenship).map_err(|e| e.to_string())?;
    card_expiry(person.birth_date, today, stay)
        .ok_or_else(|| "the period of stay has ended: no card can be issued".to_owned())
}

/// Today in Japan (the card's issue date).
pub fn japan_today() -> NaiveDate {
    Utc::now().with_timezone(&super::japan()).date_naive()
}
