//! `maina bench pickup --cards N`: the counter's hand-over, timed card by card
//! through the same use cases the counter calls. Set up first (not timed): N
//! residents, each with an application ready for pickup and a card received
//! without PINs (two RSA-2048 keys generated in the chip). Then, for each card,
//! timed separately: the PIN pad's four PINs set on the chip by APDUs and saved;
//! and the hand-over — both certificates issued by the CAs for the chip's keys,
//! written to the chip, card, certificates, application and hand-over recorded in
//! one transaction. Prints p50 and p99 of each (the target: the hand-over
//! under 200 ms at p99).
//!
//! The chip is the in-process card the store keeps (the same bytes `maina card
//! attach` serves to pcscd through vpcd); the APDUs go through
//! `maina_card::personalise`, not over a PC/SC link.

use crate::{bench_actor, scratch, today, BenchError, Result, MUNICIPALITY};
use maina_card::{Card, Personalisation};
use maina_core::application::{ApplicationEvent, Channel};
use maina_core::card::signature_certificate_allowed;
use maina_core::officer::{Actor, Role};
use maina_core::{ApplicationFormId, ReceiptNumber};
use maina_proto::{HandOverRequest, PinpadPinsRequest};
use maina_service::{Service, ServiceConfig};
use maina_store::{ApplicationDetails, NewApplication, Store};
use std::time::{Duration, Instant};

/// Makes `cards` cards ready at the counter; answers their ids.
async fn ready_cards(store: &Store, cards: u64) -> Result<Vec<String>> {
    let actor = bench_actor();
    let progress = indicatif::ProgressBar::new(cards);
    let mut ids = Vec::new();
    for index in 0..cards {
        let registration = crate::synth::resident(index, MUNICIPALITY).parse(today())?;
        let birth = registration.person.birth_date;
        let name = registration.person.name.to_string();
        let address = registration.address.as_str().to_owned();
        let registered = store.register(registration, &actor).await?;
        let form = ApplicationFormId::new(MUNICIPALITY.parse()?, 1_000_000 + index)?;
        store
            .put_notice(registered.resident_key, &form, &actor)
            .await?;
        let receipt = ReceiptNumber::new(5_000_000 + index)?;
        let application = NewApplication {
            form_id: form,
            receipt,
            channel: Channel::Mail,
            details: ApplicationDetails {
                name: name.clone(),
                birth_date: birth,
                email: None,
                language: "ja".into(),
                electronic_certificate: true,
                braille: false,
                receipt: receipt.as_digits(),
            },
            photo: None,
        };
        store.submit_application(&application, &actor, None).await?;
        let id = store.application_by_receipt(&receipt).await?.id;
        for event in [
            ApplicationEvent::StartReview,
            ApplicationEvent::Approve,
            ApplicationEvent::Ship,
            ApplicationEvent::Receive,
            ApplicationEvent::NotifyPickup,
        ] {
            store
                .transition_application(id, &event, &actor, |_, _| None)
                .await?;
        }
        let card_id = format!("{:016X}", 0xB0_0000_0000_0000u64 + index);
        let (chip, _) = Card::manufacture(
            &card_id,
            &Personalisation {
                my_number: &registered.my_number.as_digits(),
                name: &name,
                address: &address,
                birth_date: &birth.format("%Y%m%d").to_string(),
                sex: "1",
                resident_code: &registered.resident_code.as_digits(),
                pins: None,
                with_signature: signature_certificate_allowed(birth, today()),
            },
        )
        .map_err(|e| BenchError::Refused(e.to_string()))?;
        let bytes = chip
            .to_bytes()
            .map_err(|e| BenchError::Refused(e.to_string()))?;
        store
            .put_received_card(&card_id, registered.resident_key, id, &bytes, &actor)
            .await?;
        ids.push(card_id);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(ids)
}

/// The `q`-quantile of sorted durations, in milliseconds.
fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted
        .get(rank.min(sorted.len() - 1))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn refused(error: maina_service::ServiceError) -> BenchError {
    BenchError::Refused(format!("{}: {}", error.code, error.message))
}

pub async fn run(database: Option<&str>, cards: u64) -> Result<()> {
    let scratch = scratch::open(database, "bench pickup", "bench-pickup-").await?;
    scratch::ensure_empty(&scratch.store).await?;
    scratch::add_municipality(&scratch.store).await?;
    let store = &scratch.store;
    let pki = scratch.dir.path();
    let authorities = maina_pki::Authorities::create(
        &pki.join("pki-root"),
        &pki.join("pki"),
        chrono::Utc::now(),
    )?;
    let backend = store.backend().name();
    println!("bench pickup: making {cards} cards ready at the counter ({backend}) ...");
    let ids = ready_cards(store, cards).await?;
    let service =
        Service::new(store.clone(), ServiceConfig::default()).with_authorities(authorities);
    let counter = Actor {
        officer: "bench-counter".into(),
        role: Role::Counter,
        municipality: Some(MUNICIPALITY.parse()?),
        purpose: "benchmark".into(),
    };
    let adult = HandOverRequest {
        documents: vec!["passport".into()],
        ..HandOverRequest::default()
    };
    // Children come with their legal representative (and get no signature
    // certificate: one RSA signature less).
    let child = HandOverRequest {
        documents: vec!["health-insurance-card".into(), "student-id".into()],
        representative_documents: vec!["drivers-licence".into()],
        representative_authority_proof: true,
        ..HandOverRequest::default()
    };
    let (mut pins, mut hand_overs) = (Vec::new(), Vec::new());
    for card_id in &ids {
        let shown = service
            .counter_card(&counter, card_id)
            .await
            .map_err(refused)?;
        let documents = if shown.under_15 { &child } else { &adult };
        let opened = service
            .open_pinpad(&counter, card_id)
            .await
            .map_err(refused)?;
        let request = PinpadPinsRequest {
            code: opened.code,
            auth_pin: "1234".into(),
            auth_pin_again: "1234".into(),
            sign_pin: "ABC123".into(),
            sign_pin_again: "ABC123".into(),
            residence_pin: "1234".into(),
            residence_pin_again: "1234".into(),
            support_pin: "1234".into(),
            support_pin_again: "1234".into(),
        };
        let started = Instant::now();
        service
            .pinpad_set(&request, std::net::IpAddr::from([127, 0, 0, 1]))
            .await
            .map_err(refused)?;
        pins.push(started.elapsed());
        let started = Instant::now();
        service
            .hand_over(&counter, card_id, documents, "http://127.0.0.1:8080")
            .await
            .map_err(refused)?;
        hand_overs.push(started.elapsed());
    }
    pins.sort();
    hand_overs.sort();
    println!(
        "PINs set on the chip by APDUs, saved ({backend}, {cards} cards): p50 {:.1} ms, p99 {:.1} ms",
        quantile(&pins, 0.5),
        quantile(&pins, 0.99)
    );
    println!(
        "hand-over: certificates issued + chip write + one transaction: p50 {:.1} ms, p99 {:.1} ms (target: p99 under 200 ms)",
        quantile(&hand_overs, 0.5),
        quantile(&hand_overs, 0.99)
    );
    store.close().await;
    Ok(())
}
