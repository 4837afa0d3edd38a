//! The pickup counter: the JSON API for a municipality's own counter software
//! (bearer tokens) and the console's counter page (card view, PIN pad code,
//! documents form, hand-over). Both call the same use cases.

use crate::http::{error_status, ApiError, Authenticated, Body, ConsolePage, Reply};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maina_proto::{
    CounterCardResponse, CounterFindRequest, ErrorBody, HandOverRequest, HandOverResponse,
    PinpadOpened,
};
use maina_service::pickup::{IdDocument, ProxyReason, SurrenderedCard};
use serde::Deserialize;

/// The URL the certificates point relying parties to (OCSP, CRLs).
pub(crate) fn base_url(state: &AppState) -> String {
    state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen))
}

/// A card waiting at the counter: the holder's name, birth date and application
/// photo to compare with the person, and whether the PINs are set.
#[utoipa::path(get, path = "/api/v1/counter/cards/{card_id}", tag = "pickup", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 200, body = CounterCardResponse), (status = 404, body = ErrorBody)))]
pub async fn counter_card(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
) -> Reply<CounterCardResponse> {
    Ok(Json(
        state.service.counter_card(&auth.actor(), &card_id).await?,
    ))
}

/// Finds a card by its issue notice's number (as printed) or its id — in the body,
/// never in the URL.
#[utoipa::path(post, path = "/api/v1/counter/find", request_body = CounterFindRequest, tag = "pickup", security(("bearer" = [])),
    responses((status = 200, body = CounterCardResponse), (status = 404, body = ErrorBody)))]
pub async fn find_card(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<CounterFindRequest>,
) -> Reply<CounterCardResponse> {
    Ok(Json(
        state
            .service
            .find_counter_card(&auth.actor(), &request.number)
            .await?,
    ))
}

/// Opens the PIN pad for a card: the answer is the one-time code to type on the
/// PIN pad page (`/pinpad`). The PINs themselves never come back to the counter.
#[utoipa::path(post, path = "/api/v1/counter/cards/{card_id}/pinpad", tag = "pickup", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 201, body = PinpadOpened), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_pinpad(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
) -> Result<(StatusCode, Json<PinpadOpened>), ApiError> {
    let opened = state.service.open_pinpad(&auth.actor(), &card_id).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

/// Hands the card over: the documents checked, the certificates issued and
/// written to the chip, the application handed over. 409 if the PINs are not set
/// or the card was handed over already; 422 naming the field if a document or
/// reason is missing — nothing changes then.
#[utoipa::path(post, path = "/api/v1/counter/cards/{card_id}/hand-over", request_body = HandOverRequest, tag = "pickup", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 200, body = HandOverResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hand_over(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
    Body(request): Body<HandOverRequest>,
) -> Reply<HandOverResponse> {
    let url = base_url(&state);
    Ok(Json(
        state
            .service
            .hand_over(&auth.actor(), &card_id, &request, &url)
            .await?,
    ))
}

/// Posts a card home (applied in person at the counter, PINs held from the PIN
/// pad then): PINs written, certificates issued, the application posted.
#[utoipa::path(post, path = "/api/v1/counter/cards/{card_id}/post-home", request_body = HandOverRequest, tag = "pickup", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 200, body = HandOverResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_home(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
    Body(request): Body<HandOverRequest>,
) -> Reply<HandOverResponse> {
    let url = base_url(&state);
    Ok(Json(
        state
            .service
            .post_home(&auth.actor(), &card_id, &request, &url)
            .await?,
    ))
}

/// The registered mail carrying a card posted home was delivered.
#[utoipa::path(post, path = "/api/v1/counter/cards/{card_id}/delivered", tag = "pickup", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "16 hexadecimal digits")),
    responses((status = 200, body = HandOverResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delivered(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
) -> Reply<HandOverResponse> {
    Ok(Json(
        state.service.delivered(&auth.actor(), &card_id).await?,
    ))
}

/// Opens the PIN pad for an application made in person at the counter, to be
/// delivered home: the PINs typed are held sealed until the card is made.
#[utoipa::path(post, path = "/api/v1/counter/applications/{receipt}/pinpad", tag = "pickup", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 201, body = PinpadOpened), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_home_pinpad(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(receipt): Path<String>,
) -> Result<(StatusCode, Json<PinpadOpened>), ApiError> {
    let opened = state
        .service
        .open_home_pinpad(&auth.actor(), &receipt)
        .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/console/counter", get(counter_page).post(counter_find))
        .route("/console/counter/pinpad", post(counter_pinpad))
        .route("/console/counter/hand-over", post(counter_hand_over))
}

const TEMPLATE: &str = "counter.html";
const TITLE: &str = "counter-title";

#[derive(Debug, Deserialize, Default)]
struct CardQuery {
    card: Option<String>,
}

/// The choices of the documents form, with their labels in the page's language.
fn choices(state: &AppState, lang: &str) -> minijinja::Value {
    let m = |id: String| state.pages.message(lang, &id);
    let documents: Vec<(String, String, bool)> = IdDocument::ALL
        .iter()
        .map(|d| {
            (
                d.code().to_owned(),
                m(format!("pickup-doc-{}", d.code())),
                d.is_photo_id(),
            )
        })
        .collect();
    let reasons: Vec<(String, String)> = ProxyReason::ALL
        .iter()
        .map(|r| {
            (
                r.code().to_owned(),
                m(format!("pickup-reason-{}", r.code())),
            )
        })
        .collect();
    let surrendered: Vec<(String, String)> = SurrenderedCard::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_owned(),
                m(format!("pickup-surrender-{}", c.code())),
            )
        })
        .collect();
    minijinja::context! { documents, reasons, surrendered }
}

/// Renders the counter page for a card (if one is named), with `extra`.
async fn render(
    state: &AppState,
    page: &ConsolePage,
    card_id: Option<&str>,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    let choices = choices(state, page.lang);
    let Some(card_id) = card_id.filter(|c| !c.trim().is_empty()) else {
        let context = minijinja::context! { choices, ..extra };
        return page.render(state, status, TEMPLATE, TITLE, context);
    };
    match state
        .service
        .find_counter_card(&page.auth.actor(), card_id)
        .await
    {
        Ok(card) => {
            let card = minijinja::Value::from_serialize(&card);
            let context = minijinja::context! { card, choices, ..extra };
            page.render(state, status, TEMPLATE, TITLE, context)
        }
        Err(error) => {
            let context = minijinja::context! { error => error.message.clone(), choices };
            page.render(state, error_status(&error), TEMPLATE, TITLE, context)
        }
    }
}

async fn counter_page(
    State(state): State<AppState>,
    page: ConsolePage,
    Query(query): Query<CardQuery>,
) -> Response {
    let none = minijinja::context! {};
    render(&state, &page, query.card.as_deref(), StatusCode::OK, none).await
}

/// The find form: a notice number (typed or scanned) travels in the body.
async fn counter_find(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(fields): Form<Fields>,
) -> Response {
    let given = one(&fields, "card");
    let none = minijinja::context! {};
    render(&state, &page, Some(&given), StatusCode::OK, none).await
}

/// A form's values: a field may repeat (the documents' checkboxes).
type Fields = Vec<(String, String)>;

fn one(fields: &Fields, name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all(fields: &Fields, name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

fn ticked(fields: &Fields, name: &str) -> bool {
    fields.iter().any(|(k, v)| k == name && v == "yes")
}

async fn counter_pinpad(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(fields): Form<Fields>,
) -> Response {
    let card_id = one(&fields, "card_id");
    match state
        .service
        .open_pinpad(&page.auth.actor(), &card_id)
        .await
    {
        Ok(opened) => {
            let extra = minijinja::context! { pinpad => opened };
            render(&state, &page, Some(&card_id), StatusCode::OK, extra).await
        }
        Err(error) => {
            let status = error_status(&error);
            let extra = minijinja::context! { error => error.message.clone() };
            render(&state, &page, Some(&card_id), status, extra).await
        }
    }
}

async fn counter_hand_over(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(fields): Form<Fields>,
) -> Response {
    let card_id = one(&fields, "card_id");
    let reason = one(&fields, "proxy_reason");
    let request = HandOverRequest {
        documents: all(&fields, "documents"),
        proxy_reason: (!reason.trim().is_empty()).then_some(reason),
        proxy_documents: all(&fields, "proxy_documents"),
        proxy_reason_proof: ticked(&fields, "proxy_reason_proof"),
        representative_documents: all(&fields, "representative_documents"),
        representative_authority_proof: ticked(&fields, "representative_authority_proof"),
        adult_ward: ticked(&fields, "adult_ward"),
        surrendered: all(&fields, "surrendered"),
        decline_certificates: ticked(&fields, "decline_certificates"),
        express_fee_yen: None,
    };
    let url = base_url(&state);
    let done = state
        .service
        .hand_over(&page.auth.actor(), &card_id, &request, &url)
        .await;
    match done {
        Ok(done) => {
            let extra = minijinja::context! { done => minijinja::Value::from_serialize(&done) };
            render(&state, &page, Some(&card_id), StatusCode::OK, extra).await
        }
        Err(error) => {
            let mut message = error.message.clone();
            if let Some(field) = &error.field {
                message = format!("{field}: {message}");
            }
            let status = error_status(&error);
            let extra = minijinja::context! { error => message, field => error.field.clone() };
            render(&state, &page, Some(&card_id), status, extra).await
        }
    }
}
