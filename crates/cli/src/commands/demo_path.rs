//! The demo's card path: applications of demo residents in every state — waiting
//! for review, being made, shipped, ready with an issue notice, booked — made through the
//! same store and service calls the bureau's and the municipality's jobs use, and
//! the short tour `maina demo` prints.

use crate::context::Context;
use anyhow::Result;
use chrono::NaiveDate;
use maina_core::application::{ApplicationEvent, Channel};
use maina_core::{ApplicationFormId, MunicipalityCode, ReceiptNumber};
use maina_service::cards::manufacture::{japan_today, manufacture, ManufactureOptions};
use maina_service::notice::{load_font, DEFAULT_FONT};
use maina_service::pickup::issue::NoticeRun;
use maina_store::{ApplicationDetails, NewApplication, Store};
use rand::Rng;

/// What the tour names.
pub struct Tour {
    /// A waiting application: its form ID and the applicant's birth date.
    pub waiting: Option<(ApplicationFormId, NaiveDate)>,
    /// A notice to book with: its number and the resident's birth date.
    pub ready: Option<(String, NaiveDate)>,
    /// Cards handed over (their PINs: [`DEMO_PINS`]).
    pub handed_over: Vec<String>,
    /// Where the notices' PDFs are.
    pub notices_dir: std::path::PathBuf,
}

/// How many demo applications go to each stage.
const PER_STAGE: u64 = 2;

/// Seeds the path for residents 1..: two applications per stage.
pub async fn seed(
    context: &Context,
    store: &Store,
    code: &MunicipalityCode,
    public_url: &str,
) -> Result<Tour> {
    let who = context.who();
    let mut rng = rand::rngs::OsRng;
    // Residents 1..=10 apply: 1-2 wait, 3-4 are being made, 5-6 are shipped, 7 is
    // ready, 8 has booked, 9-10 have their cards.
    let mut applications = Vec::new();
    for key in 1..=PER_STAGE * 5 {
        let view = store.resident(key).await?;
        let form =
            ApplicationFormId::new(*code, rng.gen_range(0..ApplicationFormId::RANDOM_SPACE))?;
        store.put_notice(key, &form, &who).await?;
        let receipt = ReceiptNumber::new(rng.gen_range(0..ReceiptNumber::RANDOM_SPACE))?;
        let birth = view.record.person.birth_date;
        let record = store
            .submit_application(
                &NewApplication {
                    form_id: form,
                    receipt,
                    channel: Channel::Mail,
                    details: ApplicationDetails {
                        name: view.record.person.name.to_string(),
                        birth_date: birth,
                        email: None,
                        language: if key % 2 == 0 { "en" } else { "ja" }.into(),
                        electronic_certificate: true,
                        braille: key == 3,
                        receipt: receipt.as_digits(),
                    },
                    photo: None,
                },
                &who,
                None,
            )
            .await?;
        applications.push((record, form, birth));
    }
    // Approved in this order: 5-8 first (their cards are made now, in two
    // shipments: 5-6 stay in transit, 7-8 are received and notified), then 3-4
    // (approved, being made).
    let approve = |range: std::ops::Range<usize>| {
        applications
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|(record, _, _)| record.id)
            .collect::<Vec<_>>()
    };
    let order = [approve(4..10), approve(2..4)].concat();
    for id in order {
        for event in [ApplicationEvent::StartReview, ApplicationEvent::Approve] {
            store
                .transition_application(id, &event, &who, |_, _| None)
                .await?;
        }
    }
    let service =
        super::resident::service(store).with_authorities(super::pki::load_authorities(context)?);
    let font = load_font(std::path::Path::new(DEFAULT_FONT))?;
    let options = ManufactureOptions {
        municipality: Some(*code),
        limit: PER_STAGE as usize,
        batch: 100,
        today: japan_today(),
    };
    let _in_transit = manufacture(store, &font, &who, &options, |_, _| {}).await?;
    let options = ManufactureOptions {
        limit: (PER_STAGE * 2) as usize,
        ..options
    };
    let arriving = manufacture(store, &font, &who, &options, |_, _| {}).await?;
    for shipment in &arriving.shipments {
        let counted = shipment
            .manifest
            .iter()
            .map(|entry| entry.card_number.parse())
            .collect::<Result<Vec<maina_core::CardNumber>, _>>()?;
        service
            .receive_shipment(&who, shipment.id, &counted)
            .await?;
    }
    let out = context.data.join("issue-notices");
    maina_store::create_private_dir(&out)?;
    let run = NoticeRun {
        municipality: *code,
        font: &font,
        booking_url: format!("{public_url}/pickup/book"),
        out_dir: Some(&out),
        today: super::today(),
    };
    let printed = service.issue_notices(&who, &run).await?;
    let mut notified = Vec::new();
    for notice in &printed {
        if let Some(key) = store.card(&notice.card_id).await?.0.resident_key {
            let birth = store.resident(key).await?.record.person.birth_date;
            notified.push((notice.number.as_digits(), birth));
        }
    }
    // The second notice's resident has booked the first free time.
    if let Some((number, birth)) = notified.get(1) {
        let birth = birth.to_string();
        let local = std::net::IpAddr::from([127, 0, 0, 1]);
        let slots = service.available_slots(number, &birth, local).await?;
        if let Some(slot) = slots
            .days
            .iter()
            .flat_map(|day| &day.slots)
            .find(|s| s.free > 0)
        {
            service
                .book_appointment(number, &birth, &slot.starts_at, false, local)
                .await?;
        }
    }
    // The third and fourth residents have their cards: PINs from the PIN pad's use
    // case, a passport checked, the certificates issued at the counter.
    let mut handed_over = Vec::new();
    for notice in printed.iter().skip(2) {
        hand_over_demo_card(&service, &who, &notice.card_id, public_url).await?;
        handed_over.push(notice.card_id.clone());
    }
    let ready = notified.first().cloned();
    Ok(Tour {
        waiting: applications.first().map(|(_, form, birth)| (*form, *birth)),
        ready,
        handed_over,
        notices_dir: out,
    })
}

/// The PINs of the demo's handed-over cards: authentication, signature, residence,
/// support (a demo's, printed by its tour; never a real card's).
pub const DEMO_PINS: [&str; 4] = ["1234", "ABC123", "5678", "9012"];

async fn hand_over_demo_card(
    service: &maina_service::Service,
    who: &maina_core::officer::Actor,
    card_id: &str,
    public_url: &str,
) -> Result<()> {
    let local = std::net::IpAddr::from([127, 0, 0, 1]);
    let opened = service.open_pinpad(who, card_id).await?;
    let [auth, sign, residence, support] = DEMO_PINS.map(String::from);
    service
        .pinpad_set(
            &maina_proto::PinpadPinsRequest {
                code: opened.code,
                auth_pin: auth.clone(),
                auth_pin_again: auth,
                sign_pin: sign.clone(),
                sign_pin_again: sign,
                residence_pin: residence.clone(),
                residence_pin_again: residence,
                support_pin: support.clone(),
                support_pin_again: support,
            },
            local,
        )
        .await?;
    service
        .hand_over(
            who,
            card_id,
            &maina_proto::HandOverRequest {
                documents: vec!["passport".into()],
                ..Default::default()
            },
            public_url,
        )
        .await?;
    Ok(())
}
