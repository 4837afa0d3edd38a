//! `maina bench http`: an authenticated, audited resident read through the real
//! server, beside a bare axum handler returning a constant.

use crate::load::{bare_router, measure_both, start_bare, start_server, wrk_script, Load};
use crate::numbering::fill;
use crate::{bench_actor, scratch, BenchError, Result, MUNICIPALITY};

pub async fn run(database: Option<&str>, residents: u64, load: Load) -> Result<()> {
    let scratch = scratch::open(database, "bench http", "bench-http-").await?;
    let store = &scratch.store;
    scratch::ensure_empty(store).await?;
    let backend = store.backend().name();
    scratch::add_municipality(store).await?;
    println!("bench http: storing {residents} residents ({backend}) ...");
    let codes = fill(store, residents, 5000, 10_000).await?;
    let password = "bench password 2026";
    store
        .add_officer(
            &"bench".parse()?,
            maina_core::officer::Role::Counter,
            MUNICIPALITY.parse()?,
            password,
            &bench_actor(),
        )
        .await?;
    let (_, token) = match store.login("bench", password, 3_600_000_000).await? {
        Ok(session) => session,
        Err(failure) => {
            return Err(BenchError::Refused(format!(
                "bench officer cannot log in: {failure:?}"
            )))
        }
    };

    let script = wrk_script(
        scratch.dir.path(),
        "residents.lua",
        "codes",
        &codes,
        &[&format!("return wrk.format(\"GET\", \"/api/v1/residents/\" .. codes[math.random(#codes)], {{[\"Authorization\"] = \"Bearer {token}\"}})")],
    )?;
    let (ours, ceiling) = measure_both(
        (start_server(store).await?, script.clone()),
        (start_bare(bare_router()).await?, script),
        load,
        ("residents", codes.len()),
    )
    .await?;
    println!(
        "GET /api/v1/residents/{{code}}  {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  (non-2xx: {})",
        ours.requests_per_second, ours.p50_ms, ours.p99_ms, ours.non_2xx
    );
    println!(
        "bare axum constant handler     {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms",
        ceiling.requests_per_second, ceiling.p50_ms, ceiling.p99_ms
    );
    let ratio = ours.percent_of(&ceiling);
    println!("ratio                          {ratio:.0}% of the ceiling");
    store.close().await;
    Ok(())
}
