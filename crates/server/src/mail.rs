//! Delivers the outbox over SMTP. Messages are written to the outbox in the same
//! transaction as the change they tell of, so none is lost when the mail server is
//! down: the worker retries with a doubling back-off until it is up again.

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maina_store::{Mail, Store};

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub retry_seconds: u64,
}

impl MailSettings {
    /// From `smtp://host:port`.
    pub fn parse(url: &str, from: &str, retry_seconds: u64) -> Result<Self, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("smtp_url: expected smtp://host:port, got {url:?}"))?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((host, port)) => (
                host.to_owned(),
                port.parse()
                    .map_err(|_| format!("smtp_url: bad port in {url:?}"))?,
            ),
            None => (rest.trim_end_matches('/').to_owned(), 25),
        };
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("mail_from: {e}"))?;
        Ok(Self {
            host,
            port,
            from: from.to_owned(),
            retry_seconds: retry_seconds.max(1),
        })
    }
}

fn message(settings: &MailSettings, mail: &Mail) -> Result<Message, String> {
    Message::builder()
        .from(settings.from.parse().map_err(|e| format!("from: {e}"))?)
        .to(mail.to.parse().map_err(|e| format!("to: {e}"))?)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())
}

/// Tries before a message is left for an operator.
pub const MAX_ATTEMPTS: u32 = 30;

/// One pass over the due messages; returns how many were sent.
pub async fn deliver_due(
    store: &Store,
    settings: &MailSettings,
) -> Result<u32, maina_store::StoreError> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
        .port(settings.port)
        .timeout(Some(std::time::Duration::from_secs(10)))
        .build();
    let mut sent = 0;
    for queued in store.due_mail(50).await? {
        let outcome = match message(settings, &queued.mail) {
            Ok(message) => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(()) => {
                store.mail_sent(queued.id).await?;
                sent += 1;
            }
            Err(error) => {
                let delay = settings
                    .retry_seconds
                    .saturating_mul(1u64 << queued.attempts.min(16))
                    .min(3600);
                // After MAX_ATTEMPTS (about a day of tries) the message stays in the
                // outbox, with its last error, for an operator to look at.
                let retry_at = if queued.attempts + 1 >= MAX_ATTEMPTS {
                    i64::MAX
                } else {
                    maina_store::now_micros()
                        + i64::try_from(delay.saturating_mul(1_000_000)).unwrap_or(i64::MAX / 2)
                };
                tracing::warn!(id = queued.id, attempts = queued.attempts + 1, %error, "e-mail not delivered; will retry");
                store.mail_failed(queued.id, &error, retry_at).await?;
            }
        }
    }
    Ok(sent)
}

/// Runs while the server runs: a pass every second.
pub async fn worker(store: Store, settings: MailSettings) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(error) = deliver_due(&store, &settings).await {
            tracing::warn!(%error, "the mail worker could not read the outbox");
        }
    }
}
