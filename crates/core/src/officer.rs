//! Officers, their roles and what each role may do; the audit trail's events and
//! their hash chain. Pure: the store keeps them, the server enforces them.

use crate::id::MunicipalityCode;
use crate::person::FieldError;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;

/// What an officer does at the municipal office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Resident registry desk: registers residents and records changes.
    Registrar,
    /// Card pickup desk: reads records to identify residents.
    Counter,
    /// Supervises a municipality's desks: everything a registrar does, plus
    /// number changes and the audit trail.
    Supervisor,
    /// Reads the audit trail, and nothing else.
    Auditor,
    /// The 24/7 call centre for lost cards: identifies a caller by name, birth date
    /// and address (nothing more of the record) and suspends the card.
    Helpline,
    /// The local administrator at the command line (holds the key file); not an
    /// officer role that can be given to an account.
    Administrator,
}

/// Something an officer may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadResident,
    RegisterResident,
    ChangeResident,
    ChangeNumber,
    RevealNumber,
    ReadAudit,
    /// Enter an application that came by post (the back office and the counter).
    EnterApplication,
    /// Review applications: start, return, approve, cancel (supervisors).
    ReviewApplication,
    /// Receive a shipment of cards and send the issue notices (the municipality).
    ReceiveCards,
    /// Hand a card over at the counter: documents, PIN pad, certificates.
    HandOverCard,
    /// See an office's appointments.
    ViewAppointments,
    /// Edit an office's record (address, hours, counters).
    ManageOffice,
    /// Suspend a card reported lost (the helpline, the counter, supervisors).
    SuspendCard,
    /// Identify a caller: find a card by name, birth date and address (and the card
    /// or notice number), and see those facts only (the helpline).
    IdentifyCaller,
    /// The counter's work on a card in the resident's life, the card present: lift a
    /// suspension, reset or unblock a PIN, rewrite the chip's facts, renew
    /// certificates, write the notes panel, confirm continued use.
    ServiceCard,
    /// Read a card's history and certificates.
    ReadCard,
}

impl Role {
    pub const OFFICER_ROLES: [Role; 5] = [
        Role::Registrar,
        Role::Counter,
        Role::Supervisor,
        Role::Auditor,
        Role::Helpline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Registrar => "registrar",
            Role::Counter => "counter",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Helpline => "helpline",
            Role::Administrator => "administrator",
        }
    }

    /// The role's permissions: one table, used by the API and the pages alike.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Administrator | Role::Supervisor => true,
            Role::Registrar => matches!(
                permission,
                ReadResident
                    | RegisterResident
                    | ChangeResident
                    | RevealNumber
                    | EnterApplication
                    | ReadCard
            ),
            // The counter hands out cards and takes applications: it has no need to
            // see a number in clear, so a stolen counter session cannot reveal one.
            Role::Counter => matches!(
                permission,
                ReadResident
                    | EnterApplication
                    | ReceiveCards
                    | HandOverCard
                    | ViewAppointments
                    | SuspendCard
                    | ServiceCard
                    | ReadCard
            ),
            Role::Auditor => matches!(permission, ReadAudit),
            // The call centre reads nothing of a record beyond what identifies the
            // caller, and can only suspend: a stolen helpline session cannot read
            // records, reveal numbers or lift a suspension.
            Role::Helpline => matches!(permission, SuspendCard | IdentifyCaller),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        Role::OFFICER_ROLES
            .into_iter()
            .chain([Role::Administrator])
            .find(|role| role.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "role",
                    format!(
                        "{:?} is not one of registrar, counter, supervisor, auditor, helpline",
                        s.trim()
                    ),
                )
            })
    }
}

/// An officer's user name: 3 to 32 of a-z, 0-9, '.', '_' and '-'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Username {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let name = s.trim().to_ascii_lowercase();
        if !(3..=32).contains(&name.len()) {
            return Err(FieldError::new(
                "username",
                "must be 3 to 32 characters long",
            ));
        }
        if let Some(ch) = name.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(FieldError::new(
                "username",
                format!("{ch:?} is not allowed: use a-z, 0-9, '.', '_' and '-'"),
            ));
        }
        Ok(Self(name))
    }
}

try_from_string!(Username);

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The password policy: 12 to 128 characters, not all the same kind.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    let count = password.chars().count();
    if count < 12 {
        return Err(FieldError::new(
            "password",
            "must be at least 12 characters long",
        ));
    }
    if count > 128 {
        return Err(FieldError::new(
            "password",
            "must be at most 128 characters long",
        ));
    }
    let kinds = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_numeric()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return Err(FieldError::new(
            "password",
            "must mix at least two of: lower case, upper case, digits, symbols",
        ));
    }
    Ok(())
}

/// Who acts, in what capacity, and why: recorded with every change and every read
/// of personal information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub officer: String,
    pub role: Role,
    /// The municipality the officer works for; `None` for the administrator.
    pub municipality: Option<MunicipalityCode>,
    pub purpose: String,
}

impl Actor {
    /// The local administrator at the command line.
    pub fn administrator(name: &str, purpose: &str) -> Self {
        Self {
            officer: name.to_string(),
            role: Role::Administrator,
            municipality: None,
            purpose: purpose.to_string(),
        }
    }

    /// Whether the actor stated why they act (a reveal of a My Number needs one):
    /// not blank and not one of the adapters' defaults ([`DEFAULT_PURPOSES`]).
    pub fn stated_purpose(&self) -> Option<&str> {
        let purpose = self.purpose.trim();
        (purpose.chars().count() >= 3 && !DEFAULT_PURPOSES.contains(&purpose)).then_some(purpose)
    }

    /// May this actor do `permission` on a resident of `municipality`?
    pub fn may(&self, permission: Permission, municipality: Option<&MunicipalityCode>) -> bool {
        self.role.allows(permission)
            && match (&self.municipality, municipality) {
                (None, _) => true,
                (Some(own), Some(theirs)) => own == theirs,
                (Some(_), None) => true,
            }
    }
}

/// The purposes the adapters record when an officer states none (the API without
/// `X-Purpose`, the console's plain pages, the command line without `--purpose`).
pub const DEFAULT_PURPOSES: [&str; 3] = ["api", "console", "administration"];

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub seq: u64,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    pub officer: String,
    pub role: String,
    pub municipality: String,
    pub action: String,
    pub resident: Option<u64>,
    pub purpose: String,
}

/// The hash of the chain's start.
pub const GENESIS_HASH: [u8; 32] = [0u8; 32];

impl AuditEvent {
    /// This event's link: HMAC-SHA256, under the audit key from the key file, over
    /// the previous link and every field, each length-prefixed so that no two
    /// different events hash alike. Keyed, so that someone who can write the
    /// database but lacks the key file cannot forge a consistent chain.
    pub fn chain_hash(&self, previous: &[u8; 32], key: &[u8; 32]) -> [u8; 32] {
        // A 32-byte key is shorter than SHA-256's block, so HMAC accepts it as is.
        let mut block_key = [0u8; 64];
        for (slot, byte) in block_key.iter_mut().zip(key.iter()) {
            *slot = *byte;
        }
        let mut hasher = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block_key.into());
        hasher.update(b"maina audit v1");
        hasher.update(previous);
        hasher.update(&self.seq.to_be_bytes());
        hasher.update(&self.at.to_be_bytes());
        for field in [
            &self.officer,
            &self.role,
            &self.municipality,
            &self.action,
            &self.purpose,
        ] {
            hasher.update(&(field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        match self.resident {
            Some(resident) => {
                hasher.update(&[1]);
                hasher.update(&resident.to_be_bytes());
            }
            None => hasher.update(&[0]),
        }
        hasher.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_municipalities() {
        let chiyoda: MunicipalityCode = "131016".parse().unwrap();
        let sapporo: MunicipalityCode = "011002".parse().unwrap();
        let counter = Actor {
            officer: "suzuki".into(),
            role: Role::Counter,
            municipality: Some(chiyoda),
            purpose: "pickup".into(),
        };
        assert!(counter.may(Permission::ReadResident, Some(&chiyoda)));
        assert!(!counter.may(Permission::ReadResident, Some(&sapporo)));
        assert!(!counter.may(Permission::ChangeResident, Some(&chiyoda)));
        assert!(!Role::Auditor.allows(Permission::ReadResident));
        assert!(Role::Supervisor.allows(Permission::ChangeNumber));
        assert!(!Role::Registrar.allows(Permission::ChangeNumber));
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_and_passwords() {
        assert!("sato.k".parse::<Username>().is_ok());
        assert_eq!("ab".parse::<Username>().unwrap_err().field, "username");
        assert!("sato k".parse::<Username>().is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("aaaaaaaaaaaaaaaa").is_err());
        assert!(check_password("correct horse battery").is_ok());
    }

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn chain_hash_covers_every_field() {
        let event = AuditEvent {
            seq: 1,
            at: 5,
            officer: "a".into(),
            role: "registrar".into(),
            municipality: "131016".into(),
            action: "read".into(),
            resident: Some(3),
            purpose: "x".into(),
        };
        let base = event.chain_hash(&GENESIS_HASH, &KEY);
        let mut other = event.clone();
        other.resident = Some(4);
        assert_ne!(other.chain_hash(&GENESIS_HASH, &KEY), base);
        let mut other = event.clone();
        other.officer = "ar".into();
        other.role = "egistrar".into();
        assert_ne!(other.chain_hash(&GENESIS_HASH, &KEY), base);
        assert_ne!(event.chain_hash(&[1u8; 32], &KEY), base);
        assert_ne!(
            event.chain_hash(&GENESIS_HASH, &[8u8; 32]),
            base,
            "another key, another chain"
        );
    }
}
