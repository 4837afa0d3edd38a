//! Server configuration: defaults, then a TOML file, then environment and flags
//! (the command line applies the last two).

use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// Settings of `maina serve`. `Debug` masks the password in `smtp_url`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a session lasts, in minutes.
    pub session_minutes: i64,
    /// Send cookies with the Secure flag (keep on except for plain-HTTP testing).
    pub secure_cookies: bool,
    /// Log-ins allowed per client address per minute (a successful one takes its
    /// count back), counted in the database so every server process shares them.
    pub login_attempts_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` header is believed: addresses or
    /// CIDR blocks (`["127.0.0.1", "10.0.0.0/8", "fd00::/8"]`). The client is then
    /// the right-most address in the header that is not itself a trusted proxy.
    /// Empty (the default): the header is ignored and the TCP peer is the client.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Where e-mail goes: `smtps://user:password@host:465` (TLS),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS, refused without it) or
    /// `smtp://host:25` (plain, for a relay on the same host); none keeps messages
    /// in the outbox.
    pub smtp_url: Option<String>,
    /// A PEM file of the CA that signed the mail server's certificate, when it is
    /// not one the system trusts (a municipality's own CA).
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// The From address of e-mail to residents.
    pub mail_from: String,
    /// Keys of the photo booths allowed to submit applications (header `X-Booth-Key`).
    pub booth_keys: Vec<String>,
    /// The address residents reach this server at (`https://maina.example.jp`):
    /// the only base of links in e-mails (none is sent without it; never built from
    /// a request's Host header) and the origin the CSRF layer expects; over https
    /// it also turns on HSTS.
    pub public_url: Option<String>,
    /// What residents are told to contact about a late card, per municipality code
    /// (e.g. `"131016" = "千代田区役所 住民課 03-1234-5678 / Resident Affairs"`).
    pub office_contacts: std::collections::BTreeMap<String, String>,
    /// Seconds before the first retry of a failed e-mail (doubling after each
    /// failure, at most an hour).
    pub mail_retry_seconds: u64,
    /// Seconds between two signed checkpoints of the audit chain's head (one is
    /// also written at start-up and at shutdown).
    pub audit_checkpoint_seconds: u64,
    /// Where the signed audit checkpoints are appended (default: the data
    /// directory's `audit-checkpoints`). Production puts it on other storage than
    /// the database (another host, an append-only mount), so that whoever can
    /// rewrite the database cannot also rewrite the checkpoints.
    pub audit_checkpoint_dir: Option<std::path::PathBuf>,
    /// Where the daily job writes the expiry letters (有効期限通知書, one PDF per
    /// card and end, for the print shop); none: the job does not run. It needs
    /// `public_url` too (the letters' QR code is its `/apply` page).
    pub expiry_letter_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("session_minutes", &self.session_minutes)
            .field("secure_cookies", &self.secure_cookies)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "smtp_url",
                &self
                    .smtp_url
                    .as_deref()
                    .map(maina_service::mail::redact_smtp_url),
            )
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("booth_keys", &format!("({} keys)", self.booth_keys.len()))
            .field("public_url", &self.public_url)
            .field("office_contacts", &self.office_contacts)
            .field("mail_retry_seconds", &self.mail_retry_seconds)
            .field("audit_checkpoint_seconds", &self.audit_checkpoint_seconds)
            .field("audit_checkpoint_dir", &self.audit_checkpoint_dir)
            .finish()
    }
}

/// A trusted reverse proxy: one address (`127.0.0.1`, `::1`) or a CIDR block
/// (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `address` is this proxy (or in its block). An IPv4 address written
    /// as IPv6 (`::ffff:10.0.0.1`) counts as the IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?
            .to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl std::fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            max_body_bytes: 64 * 1024,
            session_minutes: 8 * 60,
            secure_cookies: true,
            login_attempts_per_minute: 10,
            trusted_proxies: Vec::new(),
            smtp_url: None,
            smtp_ca_file: None,
            mail_from: "maina <no-reply@maina.invalid>".into(),
            mail_retry_seconds: 30,
            public_url: None,
            booth_keys: Vec::new(),
            office_contacts: std::collections::BTreeMap::new(),
            audit_checkpoint_seconds: 300,
            audit_checkpoint_dir: None,
            expiry_letter_dir: None,
        }
    }
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
}

impl ServerConfig {
    /// Reads a TOML file; unknown keys and bad values are errors naming the key.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })?;
        Ok(config)
    }

    /// What the use cases need of these settings.
    pub fn service_config(&self) -> maina_service::ServiceConfig {
        maina_service::ServiceConfig {
            session_minutes: self.session_minutes,
            login_attempts_per_minute: self.login_attempts_per_minute,
            booth_keys: self.booth_keys.clone(),
            office_contacts: self.office_contacts.clone(),
        }
    }

    /// Range checks that types alone do not give.
    pub fn check(&self) -> Result<(), String> {
        if let Some(url) = &self.smtp_url {
            maina_service::mail::MailSettings::parse(
                url,
                self.smtp_ca_file.as_deref(),
                &self.mail_from,
                self.mail_retry_seconds,
            )?;
        } else if self.smtp_ca_file.is_some() {
            return Err("smtp_ca_file: set without smtp_url".into());
        }
        for code in self.office_contacts.keys() {
            maina_service::residents::municipality_code(code)
                .map_err(|e| format!("office_contacts: {code:?}: {e}"))?;
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err("max_body_bytes: must be between 1024 and 16777216".into());
        }
        if self.audit_checkpoint_seconds == 0 {
            return Err("audit_checkpoint_seconds: must be at least 1".into());
        }
        if !(1..=7 * 24 * 60).contains(&self.session_minutes) {
            return Err("session_minutes: must be between 1 and 10080".into());
        }
        if let Some(url) = &self.public_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || crate::http::csrf::origin_of(url).is_none() {
                return Err(format!(
                    "public_url: {url:?} is not an absolute http(s) URL (https://maina.example.jp)"
                ));
            }
        }
        if self.login_attempts_per_minute == 0 {
            return Err("login_attempts_per_minute: must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let error = toml::from_str::<ServerConfig>("listne = \"127.0.0.1:1\"").unwrap_err();
        assert!(error.to_string().contains("listne"), "{error}");
        let error = toml::from_str::<ServerConfig>("listen = \"nowhere\"").unwrap_err();
        assert!(error.to_string().contains("listen"), "{error}");
        let config: ServerConfig = toml::from_str("max_body_bytes = 10").unwrap();
        assert!(config.check().unwrap_err().starts_with("max_body_bytes"));
        let config: ServerConfig =
            toml::from_str("log_format = \"json\"\nsession_minutes = 30").unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.check().is_ok());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let config: ServerConfig =
            toml::from_str(r#"trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]"#).unwrap();
        let [one, block, v6] = config.trusted_proxies[..] else {
            panic!("{:?}", config.trusted_proxies)
        };
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!(one.contains(ip("::ffff:127.0.0.1")));
        assert!(block.contains(ip("10.200.3.4")) && !block.contains(ip("11.0.0.1")));
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let everything: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains(ip("203.0.113.9")));
        for bad in ["proxy.example", "10.0.0.0/33", "::1/129", "10.0.0.0/x"] {
            let error = toml::from_str::<ServerConfig>(&format!("trusted_proxies = [{bad:?}]"))
                .unwrap_err();
            assert!(error.to_string().contains("trusted_proxies"), "{error}");
        }
    }
}
