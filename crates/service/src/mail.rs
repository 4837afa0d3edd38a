//! Delivers the outbox over SMTP. Messages are written to the outbox in the same
//! transaction as the change they tell of, so none is lost when the mail server is
//! down: the worker retries with a doubling back-off until it is up again.

use lettre::message::header::ContentType;
use lettre::message::{MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maina_store::{Attachment, Mail, Store};

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The connection, as built from `smtp_url` (TLS mode, credentials, CA).
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `smtp_url` with any password replaced, for logs and errors.
    pub shown_url: String,
    pub from: String,
    pub retry_seconds: u64,
}

/// The URL with its password masked, for logs, errors and `Debug`.
fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    match shown.password() {
        None => shown.to_string(),
        Some(_) => match shown.set_password(Some("***")) {
            Ok(()) => shown.to_string(),
            // Fail closed: never show a URL whose password could not be masked.
            Err(()) => "(hidden: it holds a password)".to_owned(),
        },
    }
}

/// `smtp_url` as it may be shown: the password masked; a text that is not a URL at
/// all is not shown (it could be a mistyped secret).
pub fn redact_smtp_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => shown_url(&parsed),
        Err(_) => "(hidden: not a URL)".to_owned(),
    }
}

/// How the connection to the mail server is protected, from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// `smtp://host:port`: no TLS, for a relay on the same host or network.
    Plain,
    /// `smtp://host:port?tls=required`: STARTTLS, refusing to go on without it.
    StartTls,
    /// `smtps://host:port`: TLS from the first byte (port 465 by default).
    Tls,
}

impl MailSettings {
    /// From `smtp_url` (`smtp://`, `smtp://...?tls=required` or `smtps://`, with
    /// `user:password@` when the server wants a log-in) and, for a mail server whose
    /// certificate a private CA signed, that CA's PEM file (trusted beside the
    /// system's roots). Every mistake is an error naming the setting.
    pub fn parse(
        url: &str,
        ca_file: Option<&std::path::Path>,
        from: &str,
        retry_seconds: u64,
    ) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("smtp_url: {e}"))?;
        let shown_url = shown_url(&parsed);
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| format!("smtp_url: no host in {shown_url}"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = parsed
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let security = match (parsed.scheme(), tls.as_deref()) {
            ("smtp", None) => MailSecurity::Plain,
            ("smtp", Some("required")) => MailSecurity::StartTls,
            ("smtps", None) => MailSecurity::Tls,
            ("smtp", Some(other)) => {
                return Err(format!(
                    "smtp_url: tls={other} is not supported (use tls=required, or smtps://)"
                ))
            }
            ("smtps", Some(_)) => {
                return Err(
                    "smtp_url: tls= is not used with smtps:// (TLS from the first byte)".into(),
                )
            }
            (scheme, _) => {
                return Err(format!(
                    "smtp_url: expected smtp:// or smtps://, got {scheme}://"
                ))
            }
        };
        let port = parsed.port().unwrap_or(match security {
            MailSecurity::Plain => 25,
            MailSecurity::StartTls => 587,
            MailSecurity::Tls => 465,
        });
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(10)));
        if security != MailSecurity::Plain {
            let mut parameters = TlsParameters::builder(host.clone());
            if let Some(path) = ca_file {
                let failed =
                    |e: &dyn std::fmt::Display| format!("smtp_ca_file: {}: {e}", path.display());
                let pem = std::fs::read_to_string(path).map_err(|e| failed(&e))?;
                // Every certificate of a bundle (the TLS library reads only the
                // first of a PEM text).
                const END: &str = "-----END CERTIFICATE-----";
                let blocks: Vec<&str> = pem
                    .split_inclusive(END)
                    .filter(|block| block.contains(END))
                    .collect();
                if blocks.is_empty() {
                    return Err(failed(&"no PEM certificate in it"));
                }
                for block in blocks {
                    let certificate =
                        Certificate::from_pem(block.as_bytes()).map_err(|e| failed(&e))?;
                    parameters = parameters.add_root_certificate(certificate);
                }
            }
            let parameters = parameters
                .build()
                .map_err(|e| format!("smtp_url: TLS: {e}"))?;
            builder = builder.tls(match security {
                MailSecurity::Tls => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        } else if ca_file.is_some() {
            return Err(
                "smtp_ca_file: set, but smtp_url asks for no TLS (use smtps:// or ?tls=required)"
                    .into(),
            );
        }
        if parsed.username().is_empty() && parsed.password().is_some() {
            return Err("smtp_url: a password without a user name".into());
        }
        if !parsed.username().is_empty() {
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(text)
                    .decode_utf8()
                    .map(|decoded| decoded.into_owned())
                    .map_err(|_| "smtp_url: the user or password is not UTF-8".to_owned())
            };
            let user = decode(parsed.username())?;
            let password = decode(parsed.password().unwrap_or_default())?;
            if security == MailSecurity::Plain {
                // Lettre would send the password in clear; refuse rather than leak it.
                return Err("smtp_url: a password needs TLS (smtps:// or ?tls=required)".into());
            }
            builder = builder.credentials(Credentials::new(user, password));
        }
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("mail_from: {e}"))?;
        Ok(Self {
            transport: builder.build(),
            shown_url,
            from: from.to_owned(),
            retry_seconds: retry_seconds.max(1),
        })
    }
}

fn message(
    settings: &MailSettings,
    mail: &Mail,
    attachment: Option<&Attachment>,
) -> Result<Message, String> {
    let builder = Message::builder()
        .from(settings.from.parse().map_err(|e| format!("from: {e}"))?)
        .to(mail.to.parse().map_err(|e| format!("to: {e}"))?)
        .subject(mail.subject.clone());
    match attachment {
        None => builder
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone()),
        // The text, then the file (an appointment's `.ics`).
        Some(file) => {
            let content_type =
                ContentType::parse(&file.content_type).map_err(|e| format!("attachment: {e}"))?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(mail.body.clone()))
                    .singlepart(
                        lettre::message::Attachment::new(file.filename.clone())
                            .body(file.content.clone(), content_type),
                    ),
            )
        }
    }
    .map_err(|e| e.to_string())
}

/// Tries before a message is left for an operator.
pub const MAX_ATTEMPTS: u32 = 30;

/// One pass over the due messages; returns how many were sent.
pub async fn deliver_due(
    store: &Store,
    settings: &MailSettings,
) -> Result<u32, maina_store::StoreError> {
    let transport = &settings.transport;
    let mut sent = 0;
    for queued in store.due_mail(50).await? {
        let outcome = match message(settings, &queued.mail, queued.attachment.as_ref()) {
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
                // A mail server's refusal names the recipient ("550 <taro@...>:
                // unknown user"): it is kept and logged without it.
                let error = without_addresses(&error);
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
                tracing::warn!(id = queued.id, attempts = queued.attempts + 1, server = %settings.shown_url, %error, "e-mail not delivered; will retry");
                store.mail_failed(queued.id, &error, retry_at).await?;
            }
        }
    }
    Ok(sent)
}

/// `text` with every e-mail address in it replaced by `[address]`: a mail
/// server's error names the recipient, who is a resident.
pub fn without_addresses(text: &str) -> String {
    let is_separator = |c: char| c.is_whitespace() || "<>()[],;:\"'".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str("[address]");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_separator(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_servers_refusal_is_kept_without_the_recipient() {
        let refusal = "permanent error (550): 5.1.1 <taro.yamada@example.jp>: Recipient address rejected; also cc hanako@example.jp";
        let kept = without_addresses(refusal);
        assert!(
            !kept.contains("taro.yamada") && !kept.contains("hanako"),
            "{kept}"
        );
        assert_eq!(
            kept,
            "permanent error (550): 5.1.1 <[address]>: Recipient address rejected; also cc [address]"
        );
        assert_eq!(
            without_addresses("connection refused"),
            "connection refused"
        );
    }
}
