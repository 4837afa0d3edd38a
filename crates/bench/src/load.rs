//! Load with wrk against an in-process server: the real one, and the bare routers
//! that give the HTTP benchmarks their ceilings.

use crate::{BenchError, Result};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use maina_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The framework's ceiling: the same route shape as `GET /api/v1/residents/{code}`
/// answered with a constant, no state, no database.
pub fn bare_router() -> Router {
    Router::new().route(
        "/api/v1/residents/{code}",
        get(|| async { Json(serde_json::json!({"resident_code": "00000000000"})) }),
    )
}

/// The status inquiry's ceiling: the raw point look-up of the same rows in the same
/// database (the look-up key given, no keyed hashing, no check, no throttle),
/// answered as JSON.
pub fn bare_inquiry_router(store: Store) -> Router {
    Router::new()
        .route("/bare/{key}", get(bare_lookup))
        .with_state(store)
}

async fn bare_lookup(State(store): State<Store>, Path(key): Path<i64>) -> axum::response::Response {
    match store.bench_lookup(key).await {
        Ok(Some((status, since))) => {
            Json(serde_json::json!({"status": status, "since": since})).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves a bare router until `shutdown` resolves.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A server running in this process on a free port, until [`Running::stop`].
pub struct Running<E> {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), E>>,
}

impl<E> Running<E> {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it (its outcome no longer matters: the
    /// figures are taken).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The real server, with `store`, on a free port.
pub async fn start_server(store: &Store) -> Result<Running<maina_server::ServeError>> {
    let config = maina_server::ServerConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Default::default()
    };
    let state = maina_server::AppState::new(store.clone(), config.clone());
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(maina_server::serve(
        config.listen,
        state,
        async {
            let _ = stop_rx.await;
        },
        move |addr| {
            let _ = ready_tx.send(addr);
        },
    ));
    let addr = match ready_rx.await {
        Ok(addr) => addr,
        // The server ended before listening: its own error says why.
        Err(_) => {
            task.await??;
            return Err(BenchError::Refused(
                "the server stopped before listening".into(),
            ));
        }
    };
    Ok(Running { addr, stop, task })
}

/// A bare router on a free port.
pub async fn start_bare(router: Router) -> Result<Running<std::io::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_router(listener, router, async {
        let _ = stop_rx.await;
    }));
    Ok(Running { addr, stop, task })
}

/// One wrk run's figures.
pub struct LoadFigures {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
}

impl LoadFigures {
    /// This run's requests per second as a percentage of `ceiling`'s.
    pub fn percent_of(&self, ceiling: &LoadFigures) -> f64 {
        100.0 * self.requests_per_second / ceiling.requests_per_second.max(1.0)
    }
}

/// How long and with how many connections wrk loads each target.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub seconds: u64,
    pub connections: u32,
}

/// Writes the wrk script `file` in `dir`: a Lua table `table` of `items` (as Lua
/// strings), and a `request` function of the lines `body`.
pub fn wrk_script(
    dir: &std::path::Path,
    file: &str,
    table: &str,
    items: impl IntoIterator<Item = impl std::fmt::Display>,
    body: &[&str],
) -> Result<PathBuf> {
    let items: Vec<String> = items.into_iter().map(|i| format!("\"{i}\"")).collect();
    let mut script = format!("{table} = {{{}}}\nrequest = function()\n", items.join(","));
    for line in body {
        script.push_str(&format!("  {line}\n"));
    }
    script.push_str("end\n");
    let path = dir.join(file);
    std::fs::write(&path, script)?;
    Ok(path)
}

/// wrk's run against the real server and against its ceiling, one after the other
/// (the machine's cores are shared: at the same time they would measure each other),
/// each with its script; both servers are stopped after. The scripts pick at random
/// from a sample of `sample` `what` (said on the console).
pub async fn measure_both(
    (ours, ours_script): (Running<maina_server::ServeError>, PathBuf),
    (ceiling, ceiling_script): (Running<std::io::Error>, PathBuf),
    load: Load,
    (what, sample): (&str, usize),
) -> Result<(LoadFigures, LoadFigures)> {
    let Load {
        seconds,
        connections,
    } = load;
    println!("load: wrk, 1 thread, {connections} connections, {seconds} s each, random {what} from a sample of {sample}");
    let measured = run_both(
        [(ours.url(), ours_script), (ceiling.url(), ceiling_script)],
        load,
    )
    .await;
    ours.stop().await;
    ceiling.stop().await;
    measured
}

async fn run_both(
    targets: [(String, PathBuf); 2],
    load: Load,
) -> Result<(LoadFigures, LoadFigures)> {
    let mut figures = Vec::with_capacity(2);
    for (url, script) in targets {
        let run = tokio::task::spawn_blocking(move || run_wrk(&url, &script, load));
        figures.push(run.await??);
    }
    match (figures.pop(), figures.pop()) {
        (Some(ceiling), Some(ours)) => Ok((ours, ceiling)),
        _ => Err(BenchError::Tool("wrk gave no figures".into())),
    }
}

fn wrk_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Runs wrk (Debian's `wrk`) against `url` with a Lua script, parses its report.
fn run_wrk(url: &str, script: &std::path::Path, load: Load) -> Result<LoadFigures> {
    let output = std::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{}", load.connections),
            &format!("-d{}s", load.seconds),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|e| {
            BenchError::Tool(format!(
                "cannot run wrk ({e}): install it with `apt-get install wrk`"
            ))
        })?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        return Err(BenchError::Tool(format!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(parse_wrk_report(&text))
}

fn parse_wrk_report(text: &str) -> LoadFigures {
    let value_after = |label: &str| -> Option<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.trim_start().strip_prefix(label))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
    };
    LoadFigures {
        requests_per_second: value_after("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: value_after("50%")
            .and_then(|v| wrk_duration_ms(&v))
            .unwrap_or(f64::NAN),
        p99_ms: value_after("99%")
            .and_then(|v| wrk_duration_ms(&v))
            .unwrap_or(f64::NAN),
        non_2xx: value_after("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_durations_are_read_in_milliseconds() {
        assert_eq!(wrk_duration_ms("250.00us"), Some(0.25));
        assert_eq!(wrk_duration_ms(" 1.50ms"), Some(1.5));
        assert_eq!(wrk_duration_ms("2.00s"), Some(2000.0));
        assert_eq!(wrk_duration_ms("soon"), None);
    }

    #[test]
    fn a_wrk_script_holds_its_table_and_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = wrk_script(
            dir.path(),
            "keys.lua",
            "keys",
            [7, 42],
            &[
                "local key = keys[1]",
                "return wrk.format(\"GET\", \"/bare/\" .. key)",
            ],
        )
        .unwrap();
        assert_eq!(path, dir.path().join("keys.lua"));
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "keys = {\"7\",\"42\"}\nrequest = function()\n  local key = keys[1]\n  return wrk.format(\"GET\", \"/bare/\" .. key)\nend\n"
        );
    }

    #[test]
    fn a_wrk_report_gives_its_figures() {
        let report = "  Latency Distribution\n     50%  812.00us\n     99%    3.10ms\n  Non-2xx or 3xx responses: 4\nRequests/sec:  38012.55\n";
        let figures = parse_wrk_report(report);
        assert_eq!(figures.requests_per_second, 38012.55);
        assert_eq!(figures.p50_ms, 0.812);
        assert_eq!(figures.p99_ms, 3.1);
        assert_eq!(figures.non_2xx, 4);
    }
}
