//! The resident registry's use cases: register, search, read, look up by number,
//! reveal, history, the changes, the number change and the audit trail. Another
//! municipality's residents are "not found", so their codes reveal nothing.

use crate::{today, ErrorKind, Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::officer::{Actor, AuditEvent, Permission};
use maina_core::person::{parse_date, Address, Citizenship, FieldError, Name, NameChange};
use maina_core::resident::{NumberChangeReason, RegistrationForm, ResidentEvent};
use maina_core::{MunicipalityCode, MyNumber, ResidentCode};
use maina_proto::{
    AuditEventResponse, ClearMyNumber, HistoryEntryResponse, NumberChangeResponse,
    RegisteredResponse, ResidentResponse, RevealResponse,
};
use maina_store::ResidentView;

/// The longest name fragment a search takes.
const SEARCH_NAME_MAX: usize = 100;
/// The most hits a search answers.
const SEARCH_LIMIT: usize = 50;

/// A change to a resident record, as typed (API body, console form, command line);
/// [`Service::change_resident`] parses it. A blank or absent date means today.
#[derive(Debug, Clone)]
pub enum ResidentChange {
    /// Move to another municipality (転出・転入).
    Move {
        municipality: String,
        address: String,
        date: Option<String>,
    },
    /// A new address within the municipality (転居).
    Address {
        address: String,
        date: Option<String>,
    },
    /// A new name; parts not given stay as they are.
    Rename {
        change: NameChange,
        date: Option<String>,
    },
    /// Departure abroad (国外転出).
    Departure {
        date: Option<String>,
    },
    Death {
        date: Option<String>,
    },
}

impl From<maina_proto::MoveRequest> for ResidentChange {
    fn from(request: maina_proto::MoveRequest) -> Self {
        let maina_proto::MoveRequest {
            municipality,
            address,
            date,
        } = request;
        Self::Move {
            municipality,
            address,
            date,
        }
    }
}

impl From<maina_proto::AddressRequest> for ResidentChange {
    fn from(request: maina_proto::AddressRequest) -> Self {
        let maina_proto::AddressRequest { address, date } = request;
        Self::Address { address, date }
    }
}

impl From<maina_proto::RenameRequest> for ResidentChange {
    fn from(request: maina_proto::RenameRequest) -> Self {
        let change = NameChange {
            family_name: request.family_name,
            given_name: request.given_name,
            family_kana: request.family_kana,
            given_kana: request.given_kana,
            alphabet_name: request.alphabet_name,
            alias: request.alias,
            name_kana: None,
        };
        let date = request.date;
        Self::Rename { change, date }
    }
}

/// A record and its history, as the console's resident page shows them.
#[derive(Debug, Clone)]
pub struct RecordWithHistory {
    pub resident: ResidentResponse,
    pub history: Vec<HistoryEntryResponse>,
}

/// The date of a change: the given one, or today when none (or a blank one) is
/// given.
fn date_or_today(date: Option<&str>) -> Result<NaiveDate> {
    match date.map(str::trim).filter(|d| !d.is_empty()) {
        Some(date) => Ok(parse_date("date", date)?),
        None => Ok(today()),
    }
}

/// A resident record code as typed.
pub fn resident_code(raw: &str) -> Result<ResidentCode> {
    raw.parse::<ResidentCode>().map_err(|e| {
        ServiceError::new(ErrorKind::BadRequest, "invalid_identifier", e.to_string())
            .with_field("code")
    })
}

/// A local government code as typed (blank is "required").
pub fn municipality_code(raw: &str) -> Result<MunicipalityCode> {
    if raw.trim().is_empty() {
        return Err(FieldError::new("municipality", "is required").into());
    }
    raw.trim()
        .parse()
        .map_err(|e: maina_core::IdError| FieldError::new("municipality", e.to_string()).into())
}

impl ResidentChange {
    fn event(&self, view: &ResidentView) -> Result<ResidentEvent> {
        Ok(match self {
            Self::Move {
                municipality,
                address,
                date,
            } => ResidentEvent::Moved {
                date: date_or_today(date.as_deref())?,
                municipality: municipality_code(municipality)?,
                address: Address::parse(address)?,
            },
            Self::Address { address, date } => ResidentEvent::AddressChanged {
                date: date_or_today(date.as_deref())?,
                address: Address::parse(address)?,
            },
            Self::Rename { change, date } => ResidentEvent::Renamed {
                date: date_or_today(date.as_deref())?,
                name: view.record.person.name.changed(change)?,
            },
            Self::Departure { date } => ResidentEvent::Departed {
                date: date_or_today(date.as_deref())?,
            },
            Self::Death { date } => ResidentEvent::Died {
                date: date_or_today(date.as_deref())?,
            },
        })
    }
}

impl Service {
    /// Loads a resident the actor may act on: another municipality's residents are
    /// "not found", so their codes reveal nothing. Every refusal is audited
    /// (`denied ...`, naming the record when there is one) before it is answered.
    async fn authorized_resident(
        &self,
        actor: &Actor,
        code: &str,
        permission: Permission,
    ) -> Result<ResidentView> {
        if !actor.role.allows(permission) {
            return Err(self
                .denied(actor, permission, None, ServiceError::forbidden())
                .await);
        }
        let code = resident_code(code)?;
        let view = match self.store.resident_by_code(&code).await {
            Ok(view) => view,
            Err(error) => {
                let error = ServiceError::from(error);
                return Err(self.denied(actor, permission, None, error).await);
            }
        };
        if !actor.may(permission, Some(&view.record.municipality)) {
            let not_found = ServiceError::not_found("resident");
            return Err(self
                .denied(actor, permission, Some(view.resident_key), not_found)
                .await);
        }
        Ok(view)
    }

    /// Audits a refused access (`denied <permission>`) and hands back the refusal;
    /// when even the audit write fails, that failure is the answer (nothing leaves
    /// without its event).
    pub(crate) async fn denied(
        &self,
        actor: &Actor,
        permission: Permission,
        resident: Option<u64>,
        refusal: ServiceError,
    ) -> ServiceError {
        let action = format!("denied {permission:?} ({})", refusal.code);
        match self.store.audit(actor, &action, resident).await {
            Ok(()) => refusal,
            Err(error) => error.into(),
        }
    }

    /// A record the actor may read for `permission`, with the read audited as
    /// `action` before anything of it leaves.
    pub(crate) async fn audited_read(
        &self,
        actor: &Actor,
        code: &str,
        permission: Permission,
        action: &str,
    ) -> Result<ResidentView> {
        let view = self.authorized_resident(actor, code, permission).await?;
        self.store
            .audit(actor, action, Some(view.resident_key))
            .await?;
        Ok(view)
    }

    /// The back office's read of a record by resident record code or, when twelve
    /// digits are given, by My Number: audited as `read` or `read-by-my-number`.
    pub async fn find_resident(&self, actor: &Actor, identifier: &str) -> Result<ResidentView> {
        // Twelve digits (as typed, separators aside) are a My Number; anything else
        // is read as a resident record code, so errors speak of the identifier meant.
        let digits = identifier.chars().filter(|c| c.is_numeric()).count();
        if digits == MyNumber::LEN {
            return self.audited_read_by_number(actor, identifier).await;
        }
        let read = Permission::ReadResident;
        self.audited_read(actor, identifier, read, "read").await
    }

    /// Registers a resident (birth or move-in from abroad) in a municipality the
    /// actor may register in.
    pub async fn register(
        &self,
        actor: &Actor,
        form: &RegistrationForm,
    ) -> Result<RegisteredResponse> {
        if !actor.role.allows(Permission::RegisterResident) {
            return Err(ServiceError::forbidden());
        }
        let registration = form.parse(today())?;
        if !actor.may(
            Permission::RegisterResident,
            Some(&registration.municipality),
        ) {
            return Err(ServiceError::forbidden());
        }
        let registered = self.store.register(registration, actor).await?;
        Ok(RegisteredResponse {
            resident_code: registered.resident_code.as_digits(),
            my_number_masked: registered.my_number.masked(),
            returned: registered.returned,
        })
    }

    /// Searches a municipality by birth date and (part of) the name. Every hit is
    /// audited before any leaves: if an audit write fails, the search fails.
    pub async fn search(
        &self,
        actor: &Actor,
        municipality: &MunicipalityCode,
        birth_date: &str,
        name: &str,
    ) -> Result<Vec<ResidentResponse>> {
        if !actor.may(Permission::ReadResident, Some(municipality)) {
            let refusal = ServiceError::forbidden();
            return Err(self
                .denied(actor, Permission::ReadResident, None, refusal)
                .await);
        }
        let birth_date = parse_date("birth_date", birth_date)?;
        if name.chars().count() > SEARCH_NAME_MAX {
            return Err(FieldError::new("name", "is longer than 100 characters").into());
        }
        let found = self
            .store
            .search(municipality, birth_date, name, SEARCH_LIMIT)
            .await?;
        for view in &found {
            self.store
                .audit(actor, "search-hit", Some(view.resident_key))
                .await?;
        }
        Ok(found.iter().map(resident_response).collect())
    }

    /// A resident record (audited as a read).
    pub async fn show_resident(&self, actor: &Actor, code: &str) -> Result<ResidentResponse> {
        let view = self
            .audited_read(actor, code, Permission::ReadResident, "read")
            .await?;
        Ok(resident_response(&view))
    }

    /// A record with its history, read once (audited as one read): the console's
    /// resident page.
    pub async fn record_with_history(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<RecordWithHistory> {
        let view = self
            .audited_read(actor, code, Permission::ReadResident, "read")
            .await?;
        Ok(RecordWithHistory {
            resident: resident_response(&view),
            history: self.history_of(&view).await?,
        })
    }

    /// The record's history: the registration and every change (audited).
    pub async fn history(&self, actor: &Actor, code: &str) -> Result<Vec<HistoryEntryResponse>> {
        let view = self
            .audited_read(actor, code, Permission::ReadResident, "read-history")
            .await?;
        self.history_of(&view).await
    }

    async fn history_of(&self, view: &ResidentView) -> Result<Vec<HistoryEntryResponse>> {
        Ok(self
            .store
            .history(view.resident_key)
            .await?
            .into_iter()
            .map(|e| HistoryEntryResponse {
                version: e.version,
                kind: e.kind,
                date: e.date.to_string(),
                recorded_at: e.recorded_at,
                actor: e.actor,
            })
            .collect())
    }

    /// The resident holding a My Number, if the actor may read them; the read is
    /// audited before anything of it leaves.
    async fn audited_read_by_number(&self, actor: &Actor, raw: &str) -> Result<ResidentView> {
        let read = Permission::ReadResident;
        if !actor.role.allows(read) {
            return Err(self
                .denied(actor, read, None, ServiceError::forbidden())
                .await);
        }
        let number: MyNumber = raw
            .parse()
            .map_err(|e: maina_core::IdError| ServiceError::invalid("my_number", e.to_string()))?;
        let view = match self.store.resident_by_number(&number).await {
            Ok(view) => view,
            Err(error) => return Err(self.denied(actor, read, None, error.into()).await),
        };
        if !actor.may(read, Some(&view.record.municipality)) {
            let not_found = ServiceError::not_found("resident with this My Number");
            return Err(self
                .denied(actor, read, Some(view.resident_key), not_found)
                .await);
        }
        self.store
            .audit(actor, "read-by-my-number", Some(view.resident_key))
            .await?;
        Ok(view)
    }

    /// The resident holding a My Number, if the actor may read them (audited).
    pub async fn resident_by_number(&self, actor: &Actor, raw: &str) -> Result<ResidentResponse> {
        let view = self.audited_read_by_number(actor, raw).await?;
        Ok(resident_response(&view))
    }

    /// The My Number in clear, audited (with the actor's purpose) before it leaves.
    /// A reveal needs a stated purpose (`X-Purpose`, the console's purpose field,
    /// `--purpose`): the adapters' defaults do not count.
    pub async fn reveal_number(&self, actor: &Actor, code: &str) -> Result<RevealResponse> {
        if actor.stated_purpose().is_none() {
            let refusal = ServiceError::new(
                ErrorKind::Invalid,
                "purpose_required",
                "a My Number is revealed only for a stated purpose (X-Purpose, the purpose field or --purpose)",
            )
            .with_field("purpose");
            return Err(self
                .denied(actor, Permission::RevealNumber, None, refusal)
                .await);
        }
        let view = self
            .audited_read(actor, code, Permission::RevealNumber, "reveal-my-number")
            .await?;
        Ok(RevealResponse {
            my_number: ClearMyNumber::reveal(&view.my_number),
        })
    }

    /// Applies a change to a record: the one path of the API, the console and the
    /// command line.
    pub async fn change_resident(
        &self,
        actor: &Actor,
        code: &str,
        change: &ResidentChange,
    ) -> Result<ResidentResponse> {
        let view = self
            .authorized_resident(actor, code, Permission::ChangeResident)
            .await?;
        let event = change.event(&view)?;
        let view = self.store.apply(view.resident_key, event, actor).await?;
        Ok(resident_response(&view))
    }

    /// Changes the My Number after a leak (supervisors); the new number is revealed
    /// (audited) so that the resident can be told it.
    pub async fn change_number(
        &self,
        actor: &Actor,
        code: &str,
        reason: &str,
        date: Option<&str>,
    ) -> Result<NumberChangeResponse> {
        let view = self
            .authorized_resident(actor, code, Permission::ChangeNumber)
            .await?;
        let reason = NumberChangeReason::parse(reason)?;
        let (old, new) = self
            .store
            .change_number(view.resident_key, date_or_today(date)?, reason, actor)
            .await?;
        self.store
            .audit(actor, "reveal-my-number", Some(view.resident_key))
            .await?;
        Ok(NumberChangeResponse {
            retired_masked: old.masked(),
            my_number: ClearMyNumber::reveal(&new),
        })
    }

    /// The audit trail: about one resident, or everything done by the actor's
    /// municipality's officers (auditors and supervisors).
    pub async fn audit_trail(
        &self,
        actor: &Actor,
        resident: Option<&str>,
    ) -> Result<Vec<AuditEventResponse>> {
        if !actor.role.allows(Permission::ReadAudit) {
            return Err(ServiceError::forbidden());
        }
        let authority = self.store.authority();
        let resident = match resident {
            Some(code) => Some(
                authority
                    .resident_key(&resident_code(code)?)
                    .map_err(|_| ServiceError::not_found("resident"))?,
            ),
            None => None,
        };
        let own = actor.municipality.map(|m| m.as_digits());
        let events: Vec<AuditEvent> = self
            .store
            .audit_events(resident)
            .await?
            .into_iter()
            .filter(|e| own.as_ref().is_none_or(|own| &e.municipality == own))
            .collect();
        Ok(events
            .into_iter()
            .map(|e| AuditEventResponse {
                seq: e.seq,
                at: e.at,
                officer: e.officer,
                role: e.role,
                municipality: e.municipality,
                action: e.action,
                resident_code: e
                    .resident
                    .and_then(|k| authority.resident_code(k).ok())
                    .map(|c| c.as_digits()),
                purpose: e.purpose,
            })
            .collect())
    }
}

/// A record as the API and the console show it: the My Number only masked.
pub fn resident_response(view: &ResidentView) -> ResidentResponse {
    let record = &view.record;
    let person = &record.person;
    let (mut family_name, mut given_name, mut family_kana, mut given_kana) =
        (None, None, None, None);
    let (mut alphabet_name, mut alias) = (None, None);
    match &person.name {
        Name::Japanese {
            family,
            given,
            family_kana: fk,
            given_kana: gk,
        } => {
            family_name = Some(family.clone());
            given_name = Some(given.clone());
            family_kana = Some(fk.clone());
            given_kana = Some(gk.clone());
        }
        Name::Foreign {
            alphabet,
            alias: known_as,
            ..
        } => {
            alphabet_name = Some(alphabet.clone());
            alias = known_as.clone();
        }
    }
    let (nationality, residence_status, stay_until) = match &person.citizenship {
        Citizenship::Japanese => ("JP".to_string(), None, None),
        Citizenship::Foreign {
            nationality,
            residence_status,
            stay_until,
            ..
        } => (
            nationality.as_str().to_string(),
            Some(residence_status.name()),
            stay_until.map(|d| d.to_string()),
        ),
    };
    ResidentResponse {
        resident_code: view.resident_code.as_digits(),
        my_number_masked: view.my_number.masked(),
        status: view.status.as_str().to_string(),
        version: view.version,
        municipality: record.municipality.as_digits(),
        name: person.name.to_string(),
        family_name,
        given_name,
        family_kana,
        given_kana,
        alphabet_name,
        alias,
        birth_date: person.birth_date.to_string(),
        sex: format!("{:?}", person.sex).to_lowercase(),
        address: record.address.to_string(),
        nationality,
        residence_status,
        stay_until,
        since: record.since.to_string(),
        registered_at: view.registered_at,
        updated_at: view.updated_at,
    }
}
