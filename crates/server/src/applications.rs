//! Applications for the card, as staff handle them: the mail channel (a mailed form
//! entered with its photo scan and the three envelope checks), the review steps, the
//! supervisor's list of stuck applications; and the e-mails that tell applicants of
//! every change, in their language.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use chrono::NaiveDate;
use maina_core::application::{
    ApplicationEvent, ApplicationStatus, Channel, ReturnReason, STUCK_AFTER_DAYS,
};
use maina_core::officer::{Actor, Permission};
use maina_core::{ApplicationFormId, MunicipalityCode, ReceiptNumber};
use maina_store::{ApplicationDetails, ApplicationRecord, Mail, NewApplication, Store};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest upload: a 7 MB photo, base64-encoded, with the form's fields.
pub const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// A mailed application as the back office enters it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailApplicationRequest {
    pub form_id: String,
    /// YYYY-MM-DD, as written on the form.
    pub birth_date: String,
    pub name: String,
    /// The photo as scanned (JPEG, base64); absent when none was attached.
    pub photo_base64: Option<String>,
    /// Envelope check 1: a photo is attached (and conforms: the scan is checked too).
    pub photo_attached: bool,
    /// Envelope check 2: the form is complete.
    pub form_complete: bool,
    /// Envelope check 3: nothing else is in the envelope.
    pub nothing_else_enclosed: bool,
    #[serde(default)]
    pub electronic_certificate: bool,
    #[serde(default)]
    pub braille: bool,
}

/// An application, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationResponse {
    pub receipt: String,
    pub status: String,
    pub channel: String,
    pub municipality: String,
    pub since: String,
    /// What was wrong with the photo, if anything (codes).
    pub photo_problems: Vec<String>,
}

/// A step of the review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationEventRequest {
    /// start-review | return-for-correction | resubmit | approve | cancel
    pub event: String,
    /// For return-for-correction: photo-missing | photo-not-conforming | form-incomplete | something-else-enclosed | details-mismatch
    pub reason: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        field,
        message,
    )
}

fn response(record: &ApplicationRecord, photo_problems: Vec<String>) -> ApplicationResponse {
    ApplicationResponse {
        receipt: record.details.receipt.clone(),
        status: record.status.code().to_owned(),
        channel: record.channel.code().to_owned(),
        municipality: record.municipality.clone(),
        since: crate::dates::japan_date(record.status_since)
            .map(|date| date.to_string())
            .unwrap_or_default(),
        photo_problems,
    }
}

/// The e-mail telling an applicant where the application now stands.
pub fn status_mail(
    state: &AppState,
    details: &ApplicationDetails,
    status: ApplicationStatus,
) -> Option<Mail> {
    let to = details.email.clone()?;
    let lang = if details.language == "ja" { "ja" } else { "en" };
    let code = status.code();
    let m = |id: &str| state.pages.message(lang, id);
    Some(Mail {
        to,
        subject: format!(
            "{} — {}",
            m("mail-status-subject"),
            m(&format!("status-{code}"))
        ),
        body: format!(
            "{}\n\n{}: {}\n{}: {}\n\n{}\n\n{}\n",
            m("mail-greeting"),
            m("receipt-number"),
            details.receipt,
            m("status-answer"),
            m(&format!("status-{code}")),
            m(&format!("status-next-{code}")),
            m("mail-footer"),
        ),
    })
}

/// The e-mail telling an applicant that the card is late and whom to ask: the
/// office by name in the applicant's language (and its code), and the contact the
/// configuration gives for it (`office_contacts`), if any.
pub fn stuck_mail(
    state: &AppState,
    record: &ApplicationRecord,
    office: Option<&maina_store::Municipality>,
) -> Option<Mail> {
    let to = record.details.email.clone()?;
    let lang = if record.details.language == "ja" {
        "ja"
    } else {
        "en"
    };
    let m = |id: &str| state.pages.message(lang, id);
    let name = match (office, lang) {
        (Some(office), "ja") => format!("{} ({})", office.name_ja, record.municipality),
        (Some(office), _) => format!("{} ({})", office.name_en, record.municipality),
        (None, _) => record.municipality.clone(),
    };
    let contact = state
        .config
        .office_contacts
        .get(&record.municipality)
        .map(|contact| format!("\n{contact}"))
        .unwrap_or_default();
    Some(Mail {
        to,
        subject: m("mail-stuck-subject"),
        body: format!(
            "{}\n\n{}: {}\n\n{}\n{name}{contact}\n\n{}\n",
            m("mail-greeting"),
            m("receipt-number"),
            record.details.receipt,
            m("mail-stuck-body"),
            m("mail-footer"),
        ),
    })
}

/// Reads a multipart upload: the `photo` part's bytes and every other part as text.
/// Errors are the answers to send (413 for a part over the body limit, 400 for a
/// malformed upload).
pub async fn read_upload(
    mut multipart: axum::extract::Multipart,
) -> Result<(std::collections::HashMap<String, String>, Vec<u8>), axum::response::Response> {
    use axum::response::IntoResponse;
    let mut fields = std::collections::HashMap::new();
    let mut photo = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) if name == "photo" => photo = bytes.to_vec(),
                    Ok(bytes) => {
                        fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                    }
                    Err(_) => {
                        return Err((
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the upload is too large (7 MB at most)",
                        )
                            .into_response())
                    }
                }
            }
            Ok(None) => return Ok((fields, photo)),
            Err(_) => return Err((StatusCode::BAD_REQUEST, "malformed upload").into_response()),
        }
    }
}

/// A fresh receipt number.
pub fn new_receipt() -> Result<ReceiptNumber, ApiError> {
    let random = rand::rngs::OsRng.gen_range(0..ReceiptNumber::RANDOM_SPACE);
    ReceiptNumber::new(random).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "receipt number",
        )
    })
}

/// The three fields every channel's application carries, parsed; errors name the
/// field.
fn form_birth_name(
    form_id: &str,
    birth_date: &str,
    name: &str,
) -> Result<(ApplicationFormId, NaiveDate, String), ApiError> {
    let form: ApplicationFormId = form_id
        .parse()
        .map_err(|e: maina_core::IdError| invalid("form_id", e.to_string()))?;
    let birth = NaiveDate::parse_from_str(birth_date.trim(), "%Y-%m-%d")
        .map_err(|_| invalid("birth_date", "birth_date: expected YYYY-MM-DD"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "name: 1 to 100 characters"));
    }
    Ok((form, birth, name.to_owned()))
}

/// The resident's municipality behind a form ID (404 for an unknown form).
async fn form_municipality(
    store: &Store,
    form: &ApplicationFormId,
) -> Result<MunicipalityCode, ApiError> {
    let notice = store
        .notice_by_form(form)
        .await?
        .ok_or_else(|| ApiError::not_found("application form ID"))?;
    Ok(store
        .resident(notice.resident_key)
        .await?
        .record
        .municipality)
}

/// Enter a mailed application. A failed envelope check, or a photo that does not
/// conform, returns the application to the resident with the reason.
#[utoipa::path(post, path = "/api/v1/applications/mail", request_body = MailApplicationRequest, tag = "applications", security(("bearer" = [])),
    responses((status = 201, body = ApplicationResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mail_application(
    State(state): State<AppState>,
    auth: Authenticated,
    crate::api::Body(request): crate::api::Body<MailApplicationRequest>,
) -> Result<(StatusCode, Json<ApplicationResponse>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(mail_submit(&state, &auth, request).await?),
    ))
}

/// The one path of the mail channel's API and its back-office page.
pub async fn mail_submit(
    state: &AppState,
    auth: &Authenticated,
    request: MailApplicationRequest,
) -> Result<ApplicationResponse, ApiError> {
    let (form, birth, name) =
        form_birth_name(&request.form_id, &request.birth_date, &request.name)?;
    let name = name.as_str();
    let photo = match &request.photo_base64 {
        Some(text) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| invalid("photo_base64", "photo_base64: not base64"))?,
        ),
        None => None,
    };
    let municipality = form_municipality(&state.store, &form).await?;
    if !auth
        .actor()
        .may(Permission::EnterApplication, Some(&municipality))
    {
        return Err(ApiError::not_found("application form ID"));
    }
    let today = chrono::Local::now().date_naive();
    let problems: Vec<String> = match &photo {
        Some(bytes) => crate::photo::examine(bytes, today)
            .problems
            .iter()
            .map(|p| p.code().to_owned())
            .collect(),
        None => Vec::new(),
    };
    let reason = if !request.photo_attached || photo.is_none() {
        Some(ReturnReason::PhotoMissing)
    } else if !problems.is_empty() {
        Some(ReturnReason::PhotoNotConforming)
    } else if !request.form_complete {
        Some(ReturnReason::FormIncomplete)
    } else if !request.nothing_else_enclosed {
        Some(ReturnReason::SomethingElseEnclosed)
    } else {
        None
    };
    let receipt = new_receipt()?;
    let actor = auth.actor();
    let record = state
        .store
        .submit_application(
            &NewApplication {
                form_id: form,
                receipt,
                channel: Channel::Mail,
                details: ApplicationDetails {
                    name: name.to_owned(),
                    birth_date: birth,
                    email: None,
                    language: "ja".into(),
                    electronic_certificate: request.electronic_certificate,
                    braille: request.braille,
                    receipt: receipt.as_digits(),
                },
                photo,
            },
            &actor,
            None,
        )
        .await?;
    let record = match reason {
        Some(reason) => {
            state
                .store
                .transition_application(
                    record.id,
                    &ApplicationEvent::ReturnForCorrection { reason },
                    &actor,
                    |r, s| status_mail(state, &r.details, s),
                )
                .await?
        }
        None => record,
    };
    Ok(response(&record, problems))
}

async fn application_for(
    state: &AppState,
    auth: &Authenticated,
    receipt: &str,
    permission: Permission,
) -> Result<ApplicationRecord, ApiError> {
    let receipt: ReceiptNumber = receipt
        .parse()
        .map_err(|_| ApiError::not_found("application"))?;
    let record = state.store.application_by_receipt(&receipt).await?;
    let municipality: MunicipalityCode = record
        .municipality
        .parse()
        .map_err(|_| ApiError::not_found("application"))?;
    if !auth.actor().may(permission, Some(&municipality)) {
        return Err(ApiError::not_found("application"));
    }
    Ok(record)
}

/// An application, by its receipt number.
#[utoipa::path(get, path = "/api/v1/applications/{receipt}", tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody)))]
pub async fn show_application(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(receipt): Path<String>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    let record = application_for(&state, &auth, &receipt, Permission::EnterApplication).await?;
    Ok(Json(response(&record, Vec::new())))
}

/// Move an application on (supervisors). Illegal steps are refused with 409; the
/// applicant is told of every change by e-mail when an address was given.
#[utoipa::path(post, path = "/api/v1/applications/{receipt}/events", request_body = ApplicationEventRequest, tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn application_event(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(receipt): Path<String>,
    crate::api::Body(request): crate::api::Body<ApplicationEventRequest>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    let event = match (request.event.as_str(), request.reason.as_deref()) {
        ("start-review", None) => ApplicationEvent::StartReview,
        ("resubmit", None) => ApplicationEvent::Resubmit,
        ("approve", None) => ApplicationEvent::Approve,
        ("cancel", None) => ApplicationEvent::Cancel,
        ("return-for-correction", Some(reason)) => ApplicationEvent::ReturnForCorrection {
            reason: ReturnReason::from_code(reason)
                .ok_or_else(|| invalid("reason", "reason: not a return reason"))?,
        },
        ("return-for-correction", None) => {
            return Err(invalid(
                "reason",
                "reason: required to return an application",
            ))
        }
        ("start-review" | "resubmit" | "approve" | "cancel", Some(_)) => {
            return Err(invalid("reason", "reason: only for return-for-correction"))
        }
        _ => {
            return Err(invalid(
                "event",
                "event: start-review, return-for-correction, resubmit, approve or cancel",
            ))
        }
    };
    let record = application_for(&state, &auth, &receipt, Permission::ReviewApplication).await?;
    let record = state
        .store
        .transition_application(record.id, &event, &auth.actor(), |r, s| {
            status_mail(&state, &r.details, s)
        })
        .await?;
    Ok(Json(response(&record, Vec::new())))
}

/// Applications still in card issuance after 30 days, in the supervisor's
/// municipality (the resident should be contacted).
#[utoipa::path(get, path = "/api/v1/applications/stuck", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [ApplicationResponse]), (status = 403, body = ErrorBody)))]
pub async fn stuck(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Vec<ApplicationResponse>>, ApiError> {
    let actor = auth.actor();
    if !actor.may(Permission::ReviewApplication, None) {
        return Err(ApiError::forbidden());
    }
    let before = maina_store::now_micros() - STUCK_AFTER_DAYS * 24 * 3600 * 1_000_000;
    let list = state
        .store
        .stuck_applications(before)
        .await?
        .into_iter()
        .filter(|record| {
            record
                .municipality
                .parse::<MunicipalityCode>()
                .is_ok_and(|m| actor.may(Permission::ReviewApplication, Some(&m)))
        })
        .map(|record| response(&record, Vec::new()))
        .collect();
    Ok(Json(list))
}

/// An application from a photo booth: the form ID the booth decoded from the QR
/// code, the photo it took, and what the applicant approved on its screen.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoothApplicationRequest {
    pub form_id: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    pub name: String,
    /// The photo (JPEG, base64).
    pub photo_base64: String,
    pub electronic_certificate: bool,
    pub braille: bool,
    /// The applicant pressed "approve" after checking the details on the screen.
    pub approved: bool,
    /// Where to tell the applicant of changes (optional).
    pub email: Option<String>,
    /// `en` or `ja` (default `ja`).
    pub language: Option<String>,
}

/// The booth's printable receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoothReceipt {
    pub receipt: String,
    pub status: String,
    /// The receipt to print, in the applicant's language.
    pub printable: String,
}

/// Whether `given` is a configured booth key (compared in constant time).
pub fn booth_key_known(state: &AppState, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    state.config.booth_keys.iter().any(|key| {
        key.len() == given.len()
            && key
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

/// A photo booth submits an application. The photo is checked like any other; a
/// photo that does not conform is refused with what to fix, so the booth can take
/// another.
#[utoipa::path(post, path = "/api/v1/booth/applications", request_body = BoothApplicationRequest, tag = "applications",
    params(("X-Booth-Key" = String, Header, description = "the booth's key")),
    responses((status = 201, body = BoothReceipt), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn booth_application(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    crate::api::Body(request): crate::api::Body<BoothApplicationRequest>,
) -> Result<(StatusCode, Json<BoothReceipt>), ApiError> {
    let key = headers.get("x-booth-key").and_then(|v| v.to_str().ok());
    if !booth_key_known(&state, key) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "unknown photo booth",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(booth_submit(&state, request).await?),
    ))
}

/// The one path of the booth's API and its page: checks, records, answers with the
/// receipt to print.
pub async fn booth_submit(
    state: &AppState,
    request: BoothApplicationRequest,
) -> Result<BoothReceipt, ApiError> {
    let lang = match request.language.as_deref() {
        Some("en") => "en",
        _ => "ja",
    };
    if !request.approved {
        return Err(invalid(
            "approved",
            "approved: the applicant must approve the details",
        ));
    }
    let (form, birth, name) =
        form_birth_name(&request.form_id, &request.birth_date, &request.name)?;
    let name = name.as_str();
    if let Some(email) = &request.email {
        email
            .parse::<lettre::Address>()
            .map_err(|_| invalid("email", "email: not an e-mail address"))?;
    }
    let photo = base64::engine::general_purpose::STANDARD
        .decode(request.photo_base64.trim())
        .map_err(|_| invalid("photo_base64", "photo_base64: not base64"))?;
    let check = crate::photo::examine(&photo, chrono::Local::now().date_naive());
    if !check.passed() {
        let fix: Vec<String> = check
            .problems
            .iter()
            .map(|p| state.pages.message(lang, p.code()))
            .collect();
        let codes: Vec<&str> = check.problems.iter().map(|p| p.code()).collect();
        return Err(invalid(
            "photo_base64",
            format!("{}: {}", codes.join(", "), fix.join(" ")),
        ));
    }
    form_municipality(&state.store, &form).await?;
    let receipt = new_receipt()?;
    let details = ApplicationDetails {
        name: name.to_owned(),
        birth_date: birth,
        email: request.email.clone(),
        language: lang.to_owned(),
        electronic_certificate: request.electronic_certificate,
        braille: request.braille,
        receipt: receipt.as_digits(),
    };
    let details_for_mail = details.clone();
    let booth = Actor::administrator("photo-booth", "booth application");
    let record = state
        .store
        .submit_application(
            &NewApplication {
                form_id: form,
                receipt,
                channel: Channel::PhotoBooth,
                details,
                photo: Some(photo),
            },
            &booth,
            status_mail(state, &details_for_mail, ApplicationStatus::Received),
        )
        .await?;
    let m = |id: &str| state.pages.message(lang, id);
    let printable = format!(
        "{}\n{}: {}\n{}: {}\n{}\n",
        m("apply-done"),
        m("receipt-number"),
        receipt,
        m("status-answer"),
        m(&format!("status-{}", record.status.code())),
        m("apply-done-next"),
    );
    Ok(BoothReceipt {
        receipt: receipt.to_string(),
        status: record.status.code().to_owned(),
        printable,
    })
}

/// Tells applicants whose application is stuck (run by the server's upkeep).
pub async fn notify_stuck(state: &AppState) -> Result<u32, maina_store::StoreError> {
    let before = maina_store::now_micros() - STUCK_AFTER_DAYS * 24 * 3600 * 1_000_000;
    notify_stuck_since(state, before).await
}

/// Tells applicants whose application has been in card issuance since before
/// `before` (microseconds since the epoch) and who were not told yet.
pub async fn notify_stuck_since(
    state: &AppState,
    before: i64,
) -> Result<u32, maina_store::StoreError> {
    let offices: std::collections::HashMap<String, maina_store::Municipality> = state
        .store
        .municipalities()
        .await?
        .into_iter()
        .map(|office| (office.code.as_digits(), office))
        .collect();
    state
        .store
        .notify_stuck(before, |record| {
            stuck_mail(state, record, offices.get(&record.municipality))
        })
        .await
}

/// The actor for changes made by the server itself.
pub fn system_actor() -> Actor {
    Actor::administrator("maina", "upkeep")
}
