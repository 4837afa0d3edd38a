//! Appointments: the public booking API and page `/pickup/book` (the issue
//! notice's number and birth date travel in bodies, never in URLs), and the
//! officers' day list (`GET /api/v1/pickup/day-list`, `/console/appointments`).

use crate::http::officer::{error_message, message_for};
use crate::http::{
    error_status, ApiQuery, Authenticated, Body, ClientAddress, ConsolePage, Page, Reply,
};
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{
    AppointmentResponse, BookRequest, DayListResponse, DayQuery, ErrorBody, NoticeKeyRequest,
    SlotsResponse,
};
use maina_service::ServiceError;
use serde::Deserialize;

/// The office, the deadline, the current appointment and the free slots of the
/// booking window, for an issue notice's number and the holder's birth date
/// (public). A wrong number and a wrong birth date get the status inquiry's one
/// answer, and repeated failures are held off as there.
#[utoipa::path(post, path = "/api/v1/pickup/slots", request_body = NoticeKeyRequest, tag = "pickup",
    responses((status = 200, body = SlotsResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn slots(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<NoticeKeyRequest>,
) -> Reply<SlotsResponse> {
    Ok(Json(
        state
            .service
            .available_slots(&request.number, &request.birth_date, from.0)
            .await?,
    ))
}

/// Book a slot (public). 409 `slot_full` when its seats are taken,
/// `already_booked` when the notice has an appointment (move it instead).
#[utoipa::path(post, path = "/api/v1/pickup/appointments", request_body = BookRequest, tag = "pickup",
    responses((status = 201, body = AppointmentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn book(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<BookRequest>,
) -> Result<(StatusCode, Json<AppointmentResponse>), crate::http::ApiError> {
    let booked = state
        .service
        .book_appointment(
            &request.number,
            &request.birth_date,
            &request.starts_at,
            false,
            from.0,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

/// Move the notice's appointment to another slot (public; the old seat is given
/// back in the same transaction, and kept if the new slot is full).
#[utoipa::path(post, path = "/api/v1/pickup/appointments/move", request_body = BookRequest, tag = "pickup",
    responses((status = 200, body = AppointmentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn move_appointment(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<BookRequest>,
) -> Reply<AppointmentResponse> {
    Ok(Json(
        state
            .service
            .book_appointment(
                &request.number,
                &request.birth_date,
                &request.starts_at,
                true,
                from.0,
            )
            .await?,
    ))
}

/// Cancel the notice's appointment (public).
#[utoipa::path(post, path = "/api/v1/pickup/appointments/cancel", request_body = NoticeKeyRequest, tag = "pickup",
    responses((status = 200, body = AppointmentResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn cancel(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<NoticeKeyRequest>,
) -> Reply<AppointmentResponse> {
    Ok(Json(
        state
            .service
            .cancel_appointment(&request.number, &request.birth_date, from.0)
            .await?,
    ))
}

/// The office's appointments of a day (counter officers and supervisors of the
/// municipality; audited).
#[utoipa::path(get, path = "/api/v1/pickup/day-list", params(DayQuery), tag = "pickup", security(("bearer" = [])),
    responses((status = 200, body = DayListResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn day_list(
    state: State<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> Reply<DayListResponse> {
    Ok(Json(
        state
            .service
            .day_list(
                &auth.actor(),
                query.municipality.as_deref(),
                query.date.as_deref(),
            )
            .await?,
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/pickup/book", get(book_page).post(book_submit))
        .route("/console/appointments", get(day_page))
}

/// The booking form: the keys, what to do, and the chosen slot.
#[derive(Debug, Deserialize)]
pub struct BookForm {
    number: String,
    birth_date: String,
    /// `show` (the default), `book`, `move` or `cancel`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    starts_at: String,
}

async fn book_page(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! { number => "", birth_date => "" };
    page.render(&state, StatusCode::OK, "book.html", "book-title", context)
}

/// The message of a refusal on the booking page, in the page's language: the
/// status inquiry's for a wrong number or birth date and for too many tries.
fn refusal(state: &AppState, lang: &str, error: &ServiceError) -> String {
    let known = [
        ("too_many_attempts", "status-wait"),
        ("no_match", "status-no-match"),
        ("slot_full", "book-full"),
        ("already_booked", "book-already"),
        ("notice_closed", "book-closed"),
    ];
    message_for(state, lang, error, &known)
}

async fn book_submit(
    state: State<AppState>,
    from: ClientAddress,
    page: Page,
    Form(form): Form<BookForm>,
) -> Response {
    let service = &state.service;
    let (number, birth) = (form.number.as_str(), form.birth_date.as_str());
    let done = match form.action.as_str() {
        "book" | "move" => service
            .book_appointment(
                number,
                birth,
                &form.starts_at,
                form.action == "move",
                from.0,
            )
            .await
            .map(|_| {
                Some(if form.action == "move" {
                    "book-moved"
                } else {
                    "book-booked"
                })
            }),
        "cancel" => service
            .cancel_appointment(number, birth, from.0)
            .await
            .map(|_| Some("book-cancelled")),
        _ => Ok(None),
    };
    // After a change, or a refusal about the slot, the page shows where things
    // stand now; after a refusal of the keys it does not look again (that would
    // count a second wrong try).
    let look_again = match &done {
        Ok(_) => true,
        Err(error) => {
            matches!(
                error.code,
                "slot_full" | "already_booked" | "notice_closed" | "no_appointment"
            ) || error.field.as_deref() == Some("starts_at")
        }
    };
    let (status, done, error) = match done {
        Ok(done) => (
            StatusCode::OK,
            done.map(|id| state.pages.message(page.lang, id)),
            None,
        ),
        Err(error) => (
            error_status(&error),
            None,
            Some(refusal(&state, page.lang, &error)),
        ),
    };
    let view = if look_again {
        match service.available_slots(number, birth, from.0).await {
            Ok(view) => Some(view),
            Err(error) => {
                let message = refusal(&state, page.lang, &error);
                let context = minijinja::context! { number, birth_date => birth, error => message };
                return page.render(
                    &state,
                    error_status(&error),
                    "book.html",
                    "book-title",
                    context,
                );
            }
        }
    } else {
        None
    };
    let context = minijinja::context! {
        number, birth_date => birth, view, done, error,
        lang => page.lang,
    };
    page.render(&state, status, "book.html", "book-title", context)
}

/// The day list page's query: `?date=YYYY-MM-DD` (today when absent); other
/// parameters (`lang`) are the page's.
#[derive(Debug, Deserialize)]
pub struct DayPageQuery {
    #[serde(default)]
    date: Option<String>,
}

/// The officer's office's appointments of a day.
async fn day_page(
    State(state): State<AppState>,
    page: ConsolePage,
    Query(query): Query<DayPageQuery>,
) -> Response {
    match state
        .service
        .day_list(&page.auth.actor(), None, query.date.as_deref())
        .await
    {
        Ok(list) => page.render(
            &state,
            StatusCode::OK,
            "day_list.html",
            "day-title",
            minijinja::context! { list },
        ),
        Err(error) => {
            let message = error_message(&state, page.lang, &error);
            let context = minijinja::context! { error => message, date => query.date };
            page.render(
                &state,
                error_status(&error),
                "day_list.html",
                "day-title",
                context,
            )
        }
    }
}
