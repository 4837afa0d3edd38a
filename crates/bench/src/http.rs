//! `maina bench http`: an authenticated, audited resident read through the real
//! server, beside a bare axum handler returning a constant.

use crate::load::{bare_router, measure_both, start_bare, start_server};
use crate::numbering::fill;
use crate::{bench_actor, scratch, BenchError, Result, MUNICIPALITY};

pub async fn run(
    database: Option<&str>,
    residents: u64,
    seconds: u64,
    connections: u32,
) -> Result<()> {
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

    let ours = start_server(store).await?;
    let bare = start_bare(bare_router()).await?;
    let script = scratch.dir.path().join("residents.lua");
    let list: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
    std::fs::write(
        &script,
        format!(
            "codes = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"/api/v1/residents/\" .. codes[math.random(#codes)], {{[\"Authorization\"] = \"Bearer {token}\"}})\nend\n",
            list.join(",")
        ),
    )?;
    println!("load: wrk, 1 thread, {connections} connections, {seconds} s each, random residents from a sample of {}", codes.len());
    let measured = measure_both(
        (ours.url(), script.clone()),
        (bare.url(), script),
        seconds,
        connections,
    )
    .await;
    ours.stop().await;
    bare.stop().await;
    let (ours, ceiling) = measured?;
    println!(
        "GET /api/v1/residents/{{code}}  {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  (non-2xx: {})",
        ours.requests_per_second, ours.p50_ms, ours.p99_ms, ours.non_2xx
    );
    println!(
        "bare axum constant handler     {:.0} requests/s  p50 {:.2} ms  p99 {:.2} ms",
        ceiling.requests_per_second, ceiling.p50_ms, ceiling.p99_ms
    );
    println!(
        "ratio                          {:.0}% of the ceiling",
        100.0 * ours.requests_per_second / ceiling.requests_per_second.max(1.0)
    );
    store.close().await;
    Ok(())
}
