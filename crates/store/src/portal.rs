//! The resident portal's store side (issue 14): **the record of who used my data**
//! for one resident, newest first and paged, each entry with its audit-chain
//! position; the check that the chain verifies up to an entry; the resident's
//! notification preference; and the worker's steps that turn new officer accesses
//! into queued e-mails.
//!
//! The record is one `UNION ALL` over *sources*, each a `SELECT` of the same eight
//! columns (`at, kind, seq, role, municipality, action, purpose, detail`) about
//! resident `$1` ([`ACCESS_SOURCES`]). Today's sources:
//!
//! - the audit trail: every read or change of the record by an officer (kind
//!   `officer`; role, municipality and purpose — never the officer's name), and the
//!   card events that are a suspension or a PIN reset (kind `card`; the audit
//!   trail holds the same event as the card's history, with its chain position).
//!   The resident's own acts through the portal, and the public pages' acts (the
//!   status inquiry, the booking page, the photo booth), are not accesses: those
//!   actors are the administrator role with a fixed name ([`NOT_OFFICERS`]), which
//!   no officer account can take, so an officer cannot hide a read by a purpose.
//! - sign-ins at relying parties (the provider's `signins`), kind `signin`, and the
//!   provider's refusals of a sign-in with the resident's card (audited, kind
//!   `signin`).
//!
//! **Extension point — kiosk certificates:** when the convenience-store kiosk
//! issues certificates, add its table's `SELECT` (kind `kiosk`, `seq` 0 unless the
//! issue is audited) to [`ACCESS_SOURCES`] and a variant to [`AccessKind`]; nothing
//! else changes (paging, CSV, the page and the chain check take every source).

use crate::backend::{now_micros, to_i64, Row};
use crate::{Mail, Result, Store, StoreError};
use maina_core::officer::{Actor, GENESIS_HASH};
use serde::{Deserialize, Serialize};

/// The audit actions that are card events the record shows (kind `card`).
pub const CARD_ACTIONS: [&str; 2] = ["card.suspend", "card.pin-reset"];

/// Administrator-role actor names that are not officers: the resident through the
/// portal ([`PORTAL_ACTOR`]), the public pages and the provider's sign-in.
pub const NOT_OFFICERS: [&str; 4] = [PORTAL_ACTOR, "public", "photo-booth", "oidc"];

/// The actor name of the resident's own acts in the portal.
pub const PORTAL_ACTOR: &str = "resident";

/// The audit trail's part of the record (kind `officer` or `card`).
/// (A refused sign-in with the card is audited by the provider: kind `signin`.)
/// (The resident's own reveal of their My Number in the portal, and its refusal,
/// are listed too, kind `resident`: [`RESIDENT_ACTIONS`].)
const AUDIT_SOURCE: &str = "SELECT at, \
     CASE WHEN action IN ('card.suspend', 'card.pin-reset') THEN 'card' \
          WHEN action LIKE 'oidc.signin%' THEN 'signin' \
          WHEN action IN ('portal.reveal-my-number', 'portal.reveal-refused') THEN 'resident' \
          ELSE 'officer' END AS kind, \
     seq, role, municipality, action, purpose, '' AS detail \
     FROM audit_events WHERE resident_id = $1 \
     AND (action IN ('card.suspend', 'card.pin-reset') OR action LIKE 'oidc.signin%' \
          OR action IN ('portal.reveal-my-number', 'portal.reveal-refused') \
          OR NOT (role = 'administrator' AND officer IN ('resident', 'public', 'photo-booth', 'oidc')))";

/// The resident's own acts in the portal that the record lists (kind `resident`):
/// the My Number shown after the signature key signed, and a refused attempt.
pub const RESIDENT_ACTIONS: [&str; 2] = ["portal.reveal-my-number", "portal.reveal-refused"];

/// The sign-ins at relying parties (the provider records them outside the audit
/// trail, to keep its hot path to few writes: position 0, "not in the trail"):
/// `action` is the party's client id, `purpose` its name, `detail` the claims shared.
const SIGNIN_SOURCE: &str =
    "SELECT s.at, 'signin' AS kind, 0 AS seq, '' AS role, '' AS municipality, \
     s.client_id AS action, COALESCE(p.name, '') AS purpose, s.claims AS detail \
     FROM signins s LEFT JOIN relying_parties p ON p.client_id = s.client_id \
     WHERE s.resident_key = $1";

/// Every source of the record (see the module's documentation to add one).
const ACCESS_SOURCES: &[&str] = &[AUDIT_SOURCE, SIGNIN_SOURCE];

/// What kind of use an entry of the record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessKind {
    /// A read or change of the record by an officer (or the administrator).
    Officer,
    /// A card event: a suspension or a PIN reset.
    Card,
    /// A sign-in at a relying party.
    Signin,
    /// The resident's own act that the record lists: the My Number revealed.
    Resident,
}

impl AccessKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Officer => "officer",
            Self::Card => "card",
            Self::Signin => "signin",
            Self::Resident => "resident",
        }
    }

    fn from_code(code: &str) -> Result<Self> {
        match code {
            "officer" => Ok(Self::Officer),
            "card" => Ok(Self::Card),
            "signin" => Ok(Self::Signin),
            "resident" => Ok(Self::Resident),
            other => Err(StoreError::Corrupt(format!("access kind {other:?}"))),
        }
    }
}

/// One entry of the record of who used my data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// Microseconds since the Unix epoch.
    pub at: i64,
    pub kind: AccessKind,
    /// The audit-chain position (`None` for a source the trail does not hold).
    pub seq: Option<u64>,
    /// The officer's role (empty for a sign-in).
    pub role: String,
    /// The officer's municipality (empty for the administrator and a sign-in).
    pub municipality: String,
    /// The audit action, or the relying party's client id for a sign-in.
    pub action: String,
    pub purpose: String,
    /// What was shared at a sign-in; empty otherwise.
    pub detail: String,
}

fn access_entry(row: &Row) -> Result<AccessEntry> {
    let seq = row.key(2)?;
    Ok(AccessEntry {
        at: row.int(0)?,
        kind: AccessKind::from_code(&row.text(1)?)?,
        seq: (seq > 0).then_some(seq),
        role: row.text(3)?,
        municipality: row.text(4)?,
        action: row.text(5)?,
        purpose: row.text(6)?,
        detail: row.text(7)?,
    })
}

/// One page of the record, and how many entries it has in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPage {
    pub entries: Vec<AccessEntry>,
    pub total: u64,
}

/// How far the audit chain verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// Every event up to this position follows its predecessor and hashes to its
    /// own link under the key file's audit key.
    pub verified_upto: u64,
    /// The first problem after `verified_upto`, if the walk met one.
    pub problem: Option<String>,
}

impl ChainCheck {
    /// Whether the chain verifies up to (and including) `seq`.
    pub fn covers(&self, seq: u64) -> bool {
        seq <= self.verified_upto
    }
}

/// The resident's notification preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyPreference {
    /// E-mail at every new access to the record by an officer.
    pub notify_access: bool,
    /// Where to, and in which language (`en` or `ja`); `None` when off.
    pub email: Option<NotifyAddress>,
}

/// An e-mail address and the language of the mails sent there (sealed together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyAddress {
    pub to: String,
    pub language: String,
}

/// One officer access to tell a resident about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessNotice {
    pub resident_key: u64,
    pub entry: AccessEntry,
    pub address: NotifyAddress,
}

/// The worker's next batch: the accesses after `from` up to `upto` to tell of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessNotices {
    pub from: u64,
    pub upto: u64,
    pub notices: Vec<AccessNotice>,
}

/// The `meta` row of the notification worker's cursor.
const NOTIFIED_SEQ: &str = "portal.notified_seq";

pub(crate) fn preference_place(resident_key: u64) -> String {
    format!("portal_preferences/{resident_key}")
}

/// The record's `UNION ALL` of every source.
fn access_union() -> String {
    ACCESS_SOURCES.join(" UNION ALL ")
}

/// A relying party the resident consented to share with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub client_id: String,
    /// The party's name ('' when unknown).
    pub name: String,
    /// Microseconds since the Unix epoch.
    pub granted_at: i64,
}

impl Store {
    /// The parties a resident's consent is on for, newest first.
    pub async fn active_consents(&self, resident_key: u64) -> Result<Vec<ConsentRecord>> {
        let rows = self
            .read_all(
                "SELECT c.client_id, COALESCE(p.name, ''), c.granted_at FROM consents c \
                 LEFT JOIN relying_parties p ON p.client_id = c.client_id \
                 WHERE c.resident_key = $1 AND c.revoked_at IS NULL ORDER BY c.granted_at DESC",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ConsentRecord {
                    client_id: row.text(0)?,
                    name: row.text(1)?,
                    granted_at: row.int(2)?,
                })
            })
            .collect()
    }

    /// A resident's applications for a card, newest first.
    pub async fn applications_of_resident(
        &self,
        resident_key: u64,
    ) -> Result<Vec<crate::ApplicationRecord>> {
        let rows = self
            .read_all(
                &format!(
                    "SELECT {} FROM applications WHERE resident_id = $1 ORDER BY id DESC",
                    crate::applications::APPLICATION_COLUMNS
                ),
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        rows.iter()
            .map(|row| self.application_record(row))
            .collect()
    }

    /// One page of resident `resident_key`'s record of who used their data, newest
    /// first (ties by chain position), and its total count.
    pub async fn access_record(
        &self,
        resident_key: u64,
        limit: u32,
        offset: u64,
    ) -> Result<AccessPage> {
        let key: crate::Value = to_i64(resident_key)?.into();
        let union = access_union();
        let rows = self
            .read_all(
                &format!("SELECT at, kind, seq, role, municipality, action, purpose, detail FROM ({union}) AS record ORDER BY at DESC, seq DESC LIMIT $2 OFFSET $3"),
                &[key.clone(), i64::from(limit).into(), to_i64(offset)?.into()],
            )
            .await?;
        let total = self
            .read_one(&format!("SELECT COUNT(*) FROM ({union}) AS record"), &[key])
            .await?
            .key(0)?;
        Ok(AccessPage {
            entries: rows.iter().map(access_entry).collect::<Result<_>>()?,
            total,
        })
    }

    /// Whether the audit chain verifies from its start up to `seq`: the walk goes
    /// on from the last position this store verified (kept in memory, never in the
    /// database, which an insider could write), so a page costs only the events
    /// written since.
    pub async fn verify_audit_upto(&self, seq: u64) -> Result<ChainCheck> {
        const BATCH: i64 = 10_000;
        let (mut verified, mut previous) = match self.verified_chain.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        };
        while verified < seq {
            let rows = self
                .read_all(
                    &format!("SELECT {}, prev_hash, hash FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3", crate::audit::AUDIT_COLUMNS),
                    &[to_i64(verified)?.into(), to_i64(seq)?.into(), BATCH.into()],
                )
                .await?;
            if rows.is_empty() {
                return Ok(ChainCheck {
                    verified_upto: verified,
                    problem: Some(format!("the trail has no event {} (removed)", verified + 1)),
                });
            }
            for row in &rows {
                let event = crate::audit::audit_event(row)?;
                let problem = if event.seq != verified + 1 {
                    Some(format!("event {} is missing", verified + 1))
                } else if row.bytes(8)? != previous {
                    Some(format!(
                        "event {} does not follow event {verified} (removed or reordered)",
                        event.seq
                    ))
                } else if row.bytes(9)? != event.chain_hash(&previous, &self.audit_key) {
                    Some(format!("event {} was altered", event.seq))
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Ok(ChainCheck {
                        verified_upto: verified,
                        problem: Some(problem),
                    });
                }
                previous = event.chain_hash(&previous, &self.audit_key);
                verified = event.seq;
            }
            if let Ok(mut guard) = self.verified_chain.lock() {
                if guard.0 < verified {
                    *guard = (verified, previous);
                }
            }
        }
        Ok(ChainCheck {
            verified_upto: verified,
            problem: None,
        })
    }

    /// Checks the links of the events at `seqs` against their stored
    /// predecessors: each event's own hash and its `prev_hash`. What a page adds to
    /// [`Store::verify_audit_upto`]: an event altered after the walk passed it.
    /// Returns the positions that do not verify.
    pub async fn audit_links_broken(&self, seqs: &[u64]) -> Result<Vec<u64>> {
        let mut broken = Vec::new();
        for &seq in seqs {
            let rows = self
                .read_all(
                    &format!("SELECT {}, prev_hash, hash FROM audit_events WHERE seq = $1 OR seq = $2 ORDER BY seq", crate::audit::AUDIT_COLUMNS),
                    &[to_i64(seq)?.into(), to_i64(seq.saturating_sub(1))?.into()],
                )
                .await?;
            let (before, this) = match rows.as_slice() {
                [this] if seq == 1 => (GENESIS_HASH.to_vec(), this),
                [before, this] if seq > 1 => (before.bytes(9)?, this),
                _ => {
                    broken.push(seq);
                    continue;
                }
            };
            let event = crate::audit::audit_event(this)?;
            let previous: [u8; 32] = match before.as_slice().try_into() {
                Ok(hash) => hash,
                Err(_) => {
                    broken.push(seq);
                    continue;
                }
            };
            if this.bytes(8)? != before
                || this.bytes(9)? != event.chain_hash(&previous, &self.audit_key)
            {
                broken.push(seq);
            }
        }
        Ok(broken)
    }

    /// The resident's notification preference (off when never set).
    pub async fn notify_preference(&self, resident_key: u64) -> Result<NotifyPreference> {
        let row = self
            .read_optional(
                "SELECT notify_access, email FROM portal_preferences WHERE resident_key = $1",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(NotifyPreference {
                notify_access: false,
                email: None,
            });
        };
        let email = row
            .opt_bytes(1)?
            .map(|sealed| self.open_record(&preference_place(resident_key), &sealed))
            .transpose()?;
        Ok(NotifyPreference {
            notify_access: row.flag(0)?,
            email,
        })
    }

    /// Switches the e-mails at every officer access on (to `address`) or off
    /// (`None`, the address forgotten), with its audit event, in one transaction.
    pub async fn set_notify_preference(
        &self,
        resident_key: u64,
        address: Option<&NotifyAddress>,
        actor: &Actor,
    ) -> Result<()> {
        let sealed = address
            .map(|address| self.seal_record(&preference_place(resident_key), address))
            .transpose()?;
        let on = i64::from(address.is_some());
        let key = to_i64(resident_key)?;
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE portal_preferences SET notify_access = $2, email = $3, updated_at = $4 WHERE resident_key = $1",
                &[key.into(), on.into(), sealed.clone().into(), now_micros().into()],
            )
            .await?;
        if changed == 0 {
            tx.execute(
                "INSERT INTO portal_preferences (resident_key, notify_access, email, updated_at) VALUES ($1, $2, $3, $4)",
                &[key.into(), on.into(), sealed.into(), now_micros().into()],
            )
            .await?;
        }
        let action = if address.is_some() {
            "portal.notify-on"
        } else {
            "portal.notify-off"
        };
        self.audit_in(&mut tx, actor, action, Some(resident_key))
            .await?;
        tx.commit().await
    }

    /// The notification worker's next batch: officer accesses (kind `officer`)
    /// after the cursor, to residents who switched the e-mails on, at most `limit`.
    /// The first call starts the cursor at the chain's head (no mail for the past).
    pub async fn pending_access_notices(&self, limit: u32) -> Result<AccessNotices> {
        let (head, _) = self.audit_head().await?;
        let from = match self
            .read_optional(
                "SELECT value FROM meta WHERE name = $1",
                &[NOTIFIED_SEQ.into()],
            )
            .await?
        {
            Some(row) => row.parsed::<u64>(0)?,
            None => {
                let mut tx = self.pool.begin().await?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[NOTIFIED_SEQ.into(), head.to_string().into()],
                )
                .await?;
                tx.commit().await?;
                return Ok(AccessNotices {
                    from: head,
                    upto: head,
                    notices: Vec::new(),
                });
            }
        };
        let rows = self
            .read_all(
                "SELECT e.at, 'officer', e.seq, e.role, e.municipality, e.action, e.purpose, '', e.resident_id, p.email \
                 FROM audit_events e JOIN portal_preferences p ON p.resident_key = e.resident_id \
                 WHERE e.seq > $1 AND e.seq <= $2 AND p.notify_access = 1 AND p.email IS NOT NULL \
                 AND e.action NOT IN ('card.suspend', 'card.pin-reset') AND e.action NOT LIKE 'oidc.%' \
                 AND NOT (e.role = 'administrator' AND e.officer IN ('resident', 'public', 'photo-booth', 'oidc')) \
                 ORDER BY e.seq LIMIT $3",
                &[to_i64(from)?.into(), to_i64(head)?.into(), i64::from(limit).into()],
            )
            .await?;
        let mut notices = Vec::with_capacity(rows.len());
        for row in &rows {
            let resident_key = row.key(8)?;
            notices.push(AccessNotice {
                resident_key,
                entry: access_entry(row)?,
                address: self.open_record(&preference_place(resident_key), &row.bytes(9)?)?,
            });
        }
        let full = u32::try_from(rows.len()).unwrap_or(u32::MAX) >= limit;
        let upto = match notices.last() {
            Some(last) if full => last.entry.seq.unwrap_or(head),
            _ => head,
        };
        Ok(AccessNotices {
            from,
            upto,
            notices,
        })
    }

    /// Queues the batch's mails and moves the cursor from `from` to `upto`, in one
    /// transaction; `false` (nothing queued) when another worker moved the cursor
    /// meanwhile. So every access is told of exactly once.
    pub async fn queue_access_notices(&self, from: u64, upto: u64, mails: &[Mail]) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let moved = tx
            .execute(
                "UPDATE meta SET value = $1 WHERE name = $2 AND value = $3",
                &[
                    upto.to_string().into(),
                    NOTIFIED_SEQ.into(),
                    from.to_string().into(),
                ],
            )
            .await?;
        if moved != 1 {
            return Ok(false);
        }
        let now = now_micros();
        for mail in mails {
            self.enqueue_mail_in(&mut tx, mail, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
