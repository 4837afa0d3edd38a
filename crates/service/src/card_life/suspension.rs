//! Loss and suspension, 24 hours a day (issue 13): one use case,
//! [`Service::suspend_card`], behind three doors — an officer with `SuspendCard`
//! (helpline, counter, supervisor) names the card; the helpline first identifies
//! the caller ([`Service::identify_caller`]: name, birth date, address and the card
//! or issue notice's number; it sees only name, birth date and address of a match);
//! a resident reports the loss on the public page or API ([`Service::report_lost_card`]),
//! answered alike (same body, same status, no earlier than
//! [`PUBLIC_ANSWER_FLOOR`]) for unknown and wrong details and for a real
//! suspension, behind the status inquiry's brute-force guard.
//!
//! The suspension itself is one store transaction (`Store::suspend_card`): the
//! card `active → suspended`, its authentication certificate on hold
//! (certificateHold), its signature certificate revoked (lost-card), the CRLs
//! stale (which makes every cached OCSP answer of the authority stale at once),
//! the card's history entry (with the police report, sealed) and the audit event.

use crate::applications::inquiry::{inquiry_rules, too_many_attempts};
use crate::{ErrorKind, Result, Service, ServiceError};
use chrono::{DateTime, NaiveDate, Utc};
use maina_core::card::CardState;
use maina_core::officer::{Actor, Permission};
use maina_core::person::search_form;
use maina_core::{CardNumber, IssueNoticeNumber};
use maina_proto::{
    CallerResponse, IdentifyCallerRequest, LostCardRequest, LostCardResponse, SuspensionResponse,
};
use maina_store::{CardRecord, ResidentView, StoreError, SuspensionRecord, ThrottleVerdict};
use std::net::IpAddr;
use std::time::Duration;

/// The public report is answered no earlier than this after it arrived, whatever it
/// matched: the time of a suspension's transaction does not tell a guesser that
/// the details were right.
pub const PUBLIC_ANSWER_FLOOR: Duration = Duration::from_millis(400);

/// Longest police receipt number and station name accepted.
const MAX_POLICE_RECEIPT_CHARS: usize = 40;
const MAX_POLICE_STATION_CHARS: usize = 100;

/// The police report (遺失届) when the caller gives one: what the card's history
/// shows (sealed).
pub fn police_report(receipt: Option<&str>, station: Option<&str>) -> Result<Option<String>> {
    let field = |name: &'static str, value: Option<&str>, max: usize| -> Result<Option<String>> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => Ok(Some(maina_core::person::clean_text(name, text, max)?)),
        }
    };
    let receipt = field("police_receipt", receipt, MAX_POLICE_RECEIPT_CHARS)?;
    let station = field("police_station", station, MAX_POLICE_STATION_CHARS)?;
    Ok(match (receipt, station) {
        (None, None) => None,
        (receipt, station) => Some(format!(
            "police report: receipt {}, station {}",
            receipt.as_deref().unwrap_or("-"),
            station.as_deref().unwrap_or("-")
        )),
    })
}

/// What a caller says to identify themselves and their card, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// Normalised for comparison (`search_form`).
    name: String,
    birth_date: NaiveDate,
    address: String,
    number: CardOrNotice,
}

/// The number read off the card (10 digits) or the issue notice (16).
#[derive(Debug, Clone, PartialEq, Eq)]
enum CardOrNotice {
    Card(CardNumber),
    Notice(IssueNoticeNumber),
}

impl CardOrNotice {
    fn digits(&self) -> String {
        match self {
            Self::Card(number) => number.as_digits(),
            Self::Notice(number) => number.as_digits(),
        }
    }
}

impl CallerIdentity {
    /// Parses what was typed; each refusal names its field.
    pub fn parse(name: &str, birth_date: &str, address: &str, number: &str) -> Result<Self> {
        let name = maina_core::person::clean_text("name", name, 200)?;
        let address = maina_core::person::clean_text("address", address, 200)?;
        let birth_date = crate::applications::parse_birth_date(birth_date)?;
        let digits: String = number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let refuse =
            |message: String| ServiceError::invalid("number", format!("number: {message}"));
        let number = match digits.chars().count() {
            10 => CardOrNotice::Card(
                digits
                    .parse()
                    .map_err(|e: maina_core::IdError| refuse(e.to_string()))?,
            ),
            16 => CardOrNotice::Notice(
                digits
                    .parse()
                    .map_err(|e: maina_core::IdError| refuse(e.to_string()))?,
            ),
            _ => {
                return Err(refuse(
                    "the card number (10 digits) or the issue notice's number (16 digits)".into(),
                ))
            }
        };
        Ok(Self {
            name: search_form(&name),
            birth_date,
            address: search_form(&address),
            number,
        })
    }

    /// Whether the holder's registered facts are these (name in any written form,
    /// whitespace, width and kana insensitive; birth date; address).
    pub fn matches(&self, resident: &ResidentView) -> bool {
        let person = &resident.record.person;
        person.birth_date == self.birth_date
            && person.name.search_forms().contains(&self.name)
            && search_form(resident.record.address.as_str()) == self.address
    }
}

fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .to_rfc3339()
}

pub(crate) fn suspension_response(
    record: &SuspensionRecord,
    state: CardState,
) -> SuspensionResponse {
    SuspensionResponse {
        card_id: record.card_id.clone(),
        state: state.code().to_owned(),
        at: rfc3339(record.at),
        authentication: record.authentication.clone(),
        signature: record.signature.clone(),
    }
}

impl Service {
    /// Suspends a card (lost or stolen) for an officer with `SuspendCard` on its
    /// holder's municipality (the helpline: any). An unknown card and another
    /// municipality's are alike "no such card"; a card that is not active is
    /// refused naming its state; nothing changes on a refusal.
    pub async fn suspend_card(
        &self,
        actor: &Actor,
        raw_card_id: &str,
        police_receipt: Option<&str>,
        police_station: Option<&str>,
    ) -> Result<SuspensionResponse> {
        let report = police_report(police_receipt, police_station)?;
        let found = self
            .card_for(actor, Permission::SuspendCard, raw_card_id)
            .await?;
        self.suspend_found(actor, &found.card.id, found.state, report.as_deref())
            .await
    }

    pub(crate) async fn suspend_found(
        &self,
        actor: &Actor,
        card_id: &str,
        state: CardState,
        report: Option<&str>,
    ) -> Result<SuspensionResponse> {
        // Refused before the transaction with the rule's own words (the store
        // checks again, at the version it changes).
        state
            .after(maina_core::card::CardTransition::Suspend)
            .map_err(|e| ServiceError::new(ErrorKind::Conflict, "not_allowed", e.to_string()))?;
        let record = self.store.suspend_card(card_id, actor, report).await?;
        Ok(suspension_response(&record, CardState::Suspended))
    }

    /// The card the caller's details name and its holder, when every detail
    /// matches; `None` otherwise (unknown number, or wrong name, birth date or
    /// address — alike).
    async fn card_of_caller(
        &self,
        identity: &CallerIdentity,
    ) -> Result<Option<(CardRecord, ResidentView)>> {
        let card = match &identity.number {
            CardOrNotice::Card(number) => self.store.card_by_number(number).await?,
            CardOrNotice::Notice(number) => self.store.card_by_notice(number).await?,
        };
        let Some(card) = card else { return Ok(None) };
        let Some(resident_key) = card.resident_key else {
            return Ok(None);
        };
        let resident = match self.store.resident(resident_key).await {
            Ok(resident) => resident,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        Ok(identity.matches(&resident).then_some((card, resident)))
    }

    /// The helpline identifies a caller: with every detail right it sees the card,
    /// its state and only the holder's name, birth date and address (audited as a
    /// read of the record); otherwise "no match", audited.
    pub async fn identify_caller(
        &self,
        actor: &Actor,
        request: &IdentifyCallerRequest,
    ) -> Result<CallerResponse> {
        if !actor.role.allows(Permission::IdentifyCaller) {
            return Err(self
                .denied(
                    actor,
                    Permission::IdentifyCaller,
                    None,
                    ServiceError::forbidden(),
                )
                .await);
        }
        let identity = CallerIdentity::parse(
            &request.name,
            &request.birth_date,
            &request.address,
            &request.number,
        )?;
        let Some((card, resident)) = self.card_of_caller(&identity).await? else {
            self.store
                .audit(actor, "card.caller-not-identified", None)
                .await?;
            return Err(no_caller_match());
        };
        self.require(
            actor,
            Permission::IdentifyCaller,
            &resident.record.municipality,
            "card",
        )
        .await?;
        self.store
            .audit(actor, "card.caller-identified", Some(resident.resident_key))
            .await?;
        Ok(CallerResponse {
            card_id: card.id,
            name: resident.record.person.name.to_string(),
            birth_date: resident.record.person.birth_date.to_string(),
            address: resident.record.address.to_string(),
            card_state: card.status,
        })
    }

    /// A resident's report of a lost card, with no log-in: every well-formed report
    /// gets the same answer, no earlier than [`PUBLIC_ANSWER_FLOOR`], whether it
    /// matched an active card (suspended now), matched nothing, or matched a card
    /// already suspended or ended. Counted per number and per client address in the
    /// status inquiry's throttle (its limits); too many tries get "too many
    /// attempts", whatever they matched. Every report is audited by address.
    pub async fn report_lost_card(
        &self,
        request: &LostCardRequest,
        address: IpAddr,
        lang: &str,
    ) -> Result<LostCardResponse> {
        let started = tokio::time::Instant::now();
        let answer = self.report_lost_card_now(request, address, lang).await;
        // Refusals of malformed input are answered at once (they depend only on
        // what was typed); everything that looked a card up waits for the floor.
        if !matches!(&answer, Err(error) if error.kind == ErrorKind::Invalid) {
            tokio::time::sleep_until(started + PUBLIC_ANSWER_FLOOR).await;
        }
        answer
    }

    async fn report_lost_card_now(
        &self,
        request: &LostCardRequest,
        address: IpAddr,
        lang: &str,
    ) -> Result<LostCardResponse> {
        let identity = CallerIdentity::parse(
            &request.name,
            &request.birth_date,
            &request.address,
            &request.number,
        )?;
        let report = police_report(
            request.police_receipt.as_deref(),
            request.police_station.as_deref(),
        )?;
        let audit =
            |outcome| self.audit_public_attempt("lost card report", "lost-card", outcome, address);
        match self
            .store
            .throttle_hit(&inquiry_rules(&identity.number.digits(), address))
            .await?
        {
            ThrottleVerdict::Allowed(_) => {}
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => {
                audit("blocked").await;
                return Err(too_many_attempts(retry_after_seconds));
            }
        }
        let public = Actor::administrator("public", "lost card report");
        match self.card_of_caller(&identity).await? {
            Some((card, _)) => {
                let state = CardState::from_code(&card.status);
                if state == Some(CardState::Active) {
                    match self
                        .suspend_found(&public, &card.id, CardState::Active, report.as_deref())
                        .await
                    {
                        Ok(_) => audit("suspended").await,
                        // A concurrent change of the card: the answer stays the same.
                        Err(error) if error.kind == ErrorKind::Conflict => audit("conflict").await,
                        Err(error) => return Err(error),
                    }
                } else {
                    audit("not-active").await;
                }
            }
            None => audit("failed").await,
        }
        Ok(lost_card_answer(self, lang))
    }
}

/// The one answer to every well-formed public report.
fn lost_card_answer(service: &Service, lang: &str) -> LostCardResponse {
    LostCardResponse {
        outcome: "received".to_owned(),
        message: service.messages.message(lang, "lost-received"),
    }
}

/// The helpline's answer when the details match no card.
fn no_caller_match() -> ServiceError {
    ServiceError::new(
        ErrorKind::NotFound,
        "no_match",
        "no card matches these details",
    )
}
