//! `maina serve`: the server's settings (flags and environment over the TOML file
//! over the defaults) and the server's run until a signal stops it.

use crate::commands::pki;
use crate::context::Context;
use crate::logging;
use anyhow::Result;
use maina_server::{LogFormat, ServerConfig};
use maina_service::audit_checkpoint::{self, CheckpointWriter};
use maina_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Server settings: flags and environment override the TOML file, which overrides
/// the defaults.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// TOML configuration file (keys: listen, log_format, max_body_bytes,
    /// session_minutes, secure_cookies, login_attempts_per_minute, trusted_proxies,
    /// smtp_url, smtp_ca_file, mail_from, mail_retry_seconds, public_url,
    /// booth_keys, office_contacts, audit_checkpoint_seconds, audit_checkpoint_dir).
    #[arg(long, env = "MAINA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "MAINA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "MAINA_LOG_FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Send cookies without the Secure flag (plain-HTTP testing only).
    #[arg(long)]
    insecure_cookies: bool,
    /// Mail server: smtps://user:password@host:465, smtp://user:password@host:587?tls=required
    /// (STARTTLS) or smtp://host:25 (plain relay). The environment keeps the password
    /// out of files and process lists.
    #[arg(long, env = "MAINA_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<SmtpUrl>,
    /// PEM file of the CA that signed the mail server's certificate, when the system
    /// does not trust it.
    #[arg(long, env = "MAINA_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// The address residents reach this server at (https://maina.example.jp): the
    /// only base of links in e-mails, and the origin form posts must come from.
    /// Without it no e-mail with a link is sent.
    #[arg(long, env = "MAINA_PUBLIC_URL")]
    public_url: Option<String>,
}

/// A mail server URL, which may hold a password: its debug print masks it, so the
/// settings can derive `Debug` without leaking it.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl From<String> for SmtpUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&maina_service::mail::redact_smtp_url(&self.0), f)
    }
}

impl ServeArgs {
    /// The configuration file's settings with the flags and environment over them.
    pub fn config(&self) -> Result<ServerConfig> {
        let mut config = match &self.config {
            Some(path) => ServerConfig::from_file(path)?,
            None => ServerConfig::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        match self.log_format.as_deref() {
            Some("json") => config.log_format = LogFormat::Json,
            Some("text") => config.log_format = LogFormat::Text,
            _ => {}
        }
        if self.insecure_cookies {
            config.secure_cookies = false;
        }
        if let Some(SmtpUrl(url)) = &self.smtp_url {
            config.smtp_url = Some(url.clone());
        }
        if let Some(path) = &self.smtp_ca_file {
            config.smtp_ca_file = Some(path.clone());
        }
        if let Some(url) = &self.public_url {
            config.public_url = Some(url.clone());
        }
        config
            .check()
            .map_err(|message| anyhow::anyhow!("{message}"))?;
        Ok(config)
    }
}

pub async fn run(context: &Context, args: &ServeArgs) -> Result<()> {
    let config = args.config()?;
    serve(context, &context.open().await?, config).await
}

/// Serves `store` until SIGINT or SIGTERM, then closes it.
pub async fn serve(context: &Context, store: &Store, config: ServerConfig) -> Result<()> {
    logging::init(config.log_format);
    if config.public_url.is_none() {
        tracing::warn!(
            "no public_url: e-mails with links (online applications) are refused until it is set"
        );
    }
    let listen = config.listen;
    let stop = shutdown_signal();
    let checkpoint_dir = config
        .audit_checkpoint_dir
        .clone()
        .unwrap_or_else(|| context.default_checkpoint_dir());
    let checkpoints = CheckpointWriter::open(&context.checkpoint_key_path(), &checkpoint_dir)?;
    let checkpoint_worker = tokio::spawn(audit_checkpoint::worker(
        store.clone(),
        checkpoints.clone(),
        std::time::Duration::from_secs(config.audit_checkpoint_seconds),
    ));
    let mut state = maina_server::AppState::new(store.clone(), config);
    if maina_pki::Authorities::exist(&context.pki_dir()) {
        state = state.with_authorities(pki::load_authorities(context)?);
    } else {
        tracing::warn!(
            "no card authorities in the data directory: CRLs and OCSP are off (maina pki init)"
        );
    }
    let backend = store.backend().name();
    maina_server::serve(listen, state, stop, |addr| {
        println!("maina listening on http://{addr} ({backend})");
    })
    .await?;
    checkpoint_worker.abort();
    // The last checkpoint: the head as the server leaves it.
    let checkpoint = checkpoints.write(store).await?;
    store.close().await;
    println!(
        "maina stopped (audit checkpoint of event {} in {})",
        checkpoint.seq,
        checkpoint_dir.display()
    );
    Ok(())
}

/// The shutdown signal, its handlers installed now: before the listener opens, so a
/// SIGTERM that arrives as soon as the port answers (while the workers still start)
/// stops the server cleanly instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let streams = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (interrupt, terminate) = streams;
            let wait = |stream: Option<tokio::signal::unix::Signal>| async move {
                match stream {
                    Some(mut stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn the_smtp_password_never_reaches_a_debug_print() {
        let probe = Probe::parse_from(["maina", "--smtp-url", "smtps://mail:hunter2@host:465"]);
        let printed = format!("{:?}", probe.serve);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("host"), "{printed}");
    }
}
