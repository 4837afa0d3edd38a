//! `maina demo`: a registry to try maina with (a municipality, synthetic residents,
//! three officers), served unless `--no-serve`.

use crate::commands::{pki, serve, today};
use crate::context::Context;
use anyhow::Result;
use maina_core::officer::Role;
use maina_core::MunicipalityCode;
use maina_store::{Municipality, Store};

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: serve::ServeArgs,
    /// How many synthetic residents to register (only into an empty registry).
    #[arg(long, default_value_t = 300)]
    residents: u64,
    /// Create the demo data and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// A fresh password for the demo officers: never one written in the code, which
/// every copy of maina would share.
fn demo_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// The demo municipality: Chiyoda City, Tokyo.
pub const DEMO_MUNICIPALITY: &str = "131016";

pub async fn run(context: &Context, args: &DemoArgs) -> Result<()> {
    let mut config = args.serve.config()?;
    // E-mailed links need the address residents reach us at: on a demo, this one.
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{}", config.listen));
    }
    let public_url = config.public_url.clone().unwrap_or_default();
    let store = create(context, args.residents, &public_url).await?;
    if args.no_serve {
        store.close().await;
        return Ok(());
    }
    serve::serve(context, &store, config).await
}

/// Creates what is missing of the demo registry; returns its open store.
async fn create(context: &Context, residents: u64, public_url: &str) -> Result<Store> {
    let store = if context.key_path().exists() {
        context.open().await?
    } else {
        context.init().await?
    };
    if !maina_pki::Authorities::exist(&context.pki_dir()) {
        pki::init_authorities(context, &store, None).await?;
    }
    let code: MunicipalityCode = DEMO_MUNICIPALITY.parse()?;
    store
        .put_municipality(&Municipality {
            code,
            name_ja: "千代田区".into(),
            name_en: "Chiyoda City".into(),
        })
        .await?;
    let mut tour = None;
    if store.resident_count().await? == 0 {
        register_residents(context, &store, residents, code).await?;
        if residents >= 8 {
            tour = Some(super::demo_path::seed(context, &store, &code, public_url).await?);
        }
    }
    if store.officers().await?.is_empty() {
        let who = context.who();
        let password = demo_password();
        for (name, role) in [
            ("demo-registrar", Role::Registrar),
            ("demo-supervisor", Role::Supervisor),
            ("demo-counter", Role::Counter),
            ("demo-auditor", Role::Auditor),
            ("demo-helpline", Role::Helpline),
        ] {
            store
                .add_officer(&name.parse()?, role, code, &password, &who)
                .await?;
        }
        println!(
            "demo officers: demo-registrar, demo-supervisor, demo-counter, demo-auditor, demo-helpline (password: {password})"
        );
    }
    if let Some(tour) = tour {
        print_tour(&tour, public_url);
    }
    println!("demo data in {}", context.data.display());
    Ok(store)
}

async fn register_residents(
    context: &Context,
    store: &Store,
    residents: u64,
    code: MunicipalityCode,
) -> Result<()> {
    let today = today();
    let rows = (0..residents)
        .map(|i| {
            maina_bench::synth::resident(i, DEMO_MUNICIPALITY)
                .parse(today)
                .map(|r| (i + 1, r))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keys = store.reserve_resident_keys(rows.len() as u64).await?;
    let sealed = store.seal_registrations(keys, rows)?;
    let outcomes = store.insert_sealed(sealed, None, &context.who()).await?;
    let registered = outcomes.iter().filter(|o| o.is_ok()).count();
    store.merge_search_index().await?;
    println!(
        "demo: registered {registered} residents in {} (千代田区)",
        code.as_digits()
    );
    Ok(())
}

/// The short tour: where to look first.
fn print_tour(tour: &super::demo_path::Tour, public_url: &str) {
    println!("tour of the card's path:");
    println!("  1. open {public_url}/ (English or 日本語)");
    if let Some((form, birth)) = &tour.waiting {
        println!(
            "  2. status page {public_url}/status: form ID {} with birth date {birth} (an application waiting for review)",
            form.as_digits()
        );
    }
    if let Some((notice, birth)) = &tour.ready {
        println!(
            "  3. book a pickup at {public_url}/pickup/book: notice number {notice} with birth date {birth}"
        );
    }
    println!(
        "  4. the counter: log in at {public_url}/console as demo-counter (password above); issue notices (PDF) are in {}",
        tour.notices_dir.display()
    );
    if let Some(card) = tour.handed_over.first() {
        let [auth, sign, ..] = super::demo_path::DEMO_PINS;
        println!(
            "  5. a card handed over: maina card attach {card} (then OpenSC/pkcs11-tool; PINs: authentication {auth}, signature {sign})"
        );
    }
}
