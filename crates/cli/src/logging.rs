//! Logs to standard error (standard output carries the commands' results), as text
//! or JSON; `MAINA_LOG` overrides the filter.

/// The filter when `MAINA_LOG` is not set: maina's own events, quiet dependencies.
const DEFAULT_FILTER: &str = "warn,sqlx=error,maina=info,maina_server=info,tower_http=info";

/// Installs the subscriber (once: a second call changes nothing).
pub fn init(format: maina_server::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAINA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        maina_server::LogFormat::Json => builder.json().try_init(),
        maina_server::LogFormat::Text => builder.try_init(),
    };
}
