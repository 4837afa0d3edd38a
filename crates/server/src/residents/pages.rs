//! The officer console's registry pages: search, look-up by number, a resident's
//! record with its history, the change forms and registration.

use crate::http::error_status;
use crate::http::extract::clean_purpose;
use crate::http::officer::error_message;
use crate::http::ConsolePage;
use crate::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maina_proto::{RegistrationForm, RenameRequest, ResidentResponse};
use maina_service::residents::{resident_code, ResidentChange};
use maina_service::ServiceError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(console))
        .route("/console/search", post(search))
        .route("/console/lookup", post(lookup))
        .route(
            "/console/register",
            get(register_page).post(register_submit),
        )
        .route("/console/residents/{code}", get(resident_page))
        .route("/console/residents/{code}/{change}", post(change_submit))
}

#[derive(Debug, Deserialize, Default, Serialize)]
pub struct SearchForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    code: String,
}

/// The console page with an error in the page's language and the error's status.
fn console_error(state: &AppState, page: &ConsolePage, error: &ServiceError) -> Response {
    let context = minijinja::context! {
        query => minijinja::Value::from_serialize(SearchForm::default()),
        error => error_message(state, page.lang, error),
    };
    page.render(
        state,
        error_status(error),
        "console.html",
        "console",
        context,
    )
}

/// The console's front page: the search forms, empty.
async fn console(State(state): State<AppState>, page: ConsolePage) -> Response {
    render_search(&state, &page, &SearchForm::default(), vec![], None, false)
}

/// A search by name and birth date, or a jump to a resident record code: a post,
/// so that what was typed (a My Number typed into the code box, too) never lands
/// in a URL, the browser's history or an access log.
async fn search(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(query): Form<SearchForm>,
) -> Response {
    let mut error = None;
    let mut results: Vec<ResidentResponse> = vec![];
    if !query.code.trim().is_empty() {
        match resident_code(&query.code) {
            Ok(code) => {
                let to = format!("/console/residents/{}", code.as_digits());
                return Redirect::to(&to).into_response();
            }
            Err(e) => {
                let label = state.pages.message(page.lang, "resident-code");
                error = Some(format!("{label}: {e}"));
            }
        }
    } else {
        let auth = &page.auth;
        let municipality = &auth.officer.municipality;
        let found = (state.service)
            .search(&auth.actor(), municipality, &query.birth_date, &query.name)
            .await;
        match found {
            Ok(found) => results = found,
            Err(e) => error = Some(error_message(&state, page.lang, &e)),
        }
    }
    // What was typed in the code box is not echoed back (it may be a My Number).
    let shown = SearchForm {
        code: String::new(),
        ..query
    };
    render_search(&state, &page, &shown, results, error, true)
}

fn render_search(
    state: &AppState,
    page: &ConsolePage,
    query: &SearchForm,
    results: Vec<ResidentResponse>,
    error: Option<String>,
    searched: bool,
) -> Response {
    let context = minijinja::context! {
        query => minijinja::Value::from_serialize(query),
        results => minijinja::Value::from_serialize(&results),
        searched, error,
    };
    page.render(state, StatusCode::OK, "console.html", "console", context)
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    my_number: String,
    purpose: String,
}

async fn lookup(
    State(state): State<AppState>,
    mut page: ConsolePage,
    Form(form): Form<LookupForm>,
) -> Response {
    page.auth.purpose = clean_purpose(&form.purpose);
    let found = (state.service)
        .resident_by_number(&page.auth.actor(), &form.my_number)
        .await;
    match found {
        Ok(found) => {
            Redirect::to(&format!("/console/residents/{}", found.resident_code)).into_response()
        }
        Err(error) => console_error(&state, &page, &error),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn resident_page(
    State(state): State<AppState>,
    page: ConsolePage,
    Path(code): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let found = state
        .service
        .record_with_history(&page.auth.actor(), &code)
        .await;
    match found {
        Ok(found) => {
            // The cards are shown to those who may read them (not to every role that
            // may read the record); a refusal leaves the section out.
            let cards = state
                .service
                .resident_cards(&page.auth.actor(), &code, page.lang)
                .await
                .unwrap_or_default();
            let notice = query
                .notice
                .as_deref()
                .filter(|n| ["saved", "registered"].contains(n))
                .map(|n| state.pages.message(page.lang, n));
            let context = minijinja::context! {
                title => found.resident.name.clone(),
                r => minijinja::Value::from_serialize(&found.resident),
                history => minijinja::Value::from_serialize(&found.history),
                cards => minijinja::Value::from_serialize(&cards),
                notice,
            };
            page.render(&state, StatusCode::OK, "resident.html", "", context)
        }
        Err(error) => console_error(&state, &page, &error),
    }
}

/// The change a console form asks for (`/console/residents/{code}/{change}`); a
/// blank date means today. The use case checks the values, as for the API.
fn form_change(change: &str, fields: &HashMap<String, String>) -> Option<ResidentChange> {
    let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let date = fields
        .get("date")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    // The rename form sends every part of the resident's script.
    let part = |name: &str| fields.get(name).cloned();
    Some(match change {
        "address" => ResidentChange::Address {
            address: text("address"),
            date,
        },
        "move" => ResidentChange::Move {
            municipality: text("municipality"),
            address: text("address"),
            date,
        },
        "rename" => ResidentChange::from(RenameRequest {
            family_name: part("family_name"),
            given_name: part("given_name"),
            family_kana: part("family_kana"),
            given_kana: part("given_kana"),
            alphabet_name: part("alphabet_name"),
            alias: part("alias"),
            date,
        }),
        "departure" => ResidentChange::Departure { date },
        _ => return None,
    })
}

/// Applies a change from a console form: the same use case as the API's.
async fn change_submit(
    State(state): State<AppState>,
    page: ConsolePage,
    Path((code, change)): Path<(String, String)>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let Some(change) = form_change(&change, &fields) else {
        return crate::not_found().await.into_response();
    };
    let changed = state
        .service
        .change_resident(&page.auth.actor(), &code, &change)
        .await;
    match changed {
        Ok(changed) => {
            let to = format!("/console/residents/{}?notice=saved", changed.resident_code);
            Redirect::to(&to).into_response()
        }
        Err(error) => console_error(&state, &page, &error),
    }
}

async fn register_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    let form = minijinja::Value::from_serialize(HashMap::<String, String>::new());
    let context = minijinja::context! { form };
    page.render(&state, StatusCode::OK, "register.html", "register", context)
}

async fn register_submit(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| fields.get(name).cloned();
    let form = RegistrationForm {
        municipality: Some(page.auth.officer.municipality.as_digits()),
        reason: get("reason"),
        family_name: get("family_name"),
        given_name: get("given_name"),
        family_kana: get("family_kana"),
        given_kana: get("given_kana"),
        birth_date: get("birth_date"),
        sex: get("sex"),
        address: get("address"),
        ..Default::default()
    };
    match state.service.register(&page.auth.actor(), &form).await {
        Ok(registered) => {
            let code = registered.resident_code;
            Redirect::to(&format!("/console/residents/{code}?notice=registered")).into_response()
        }
        Err(error) => {
            let context = minijinja::context! {
                form => minijinja::Value::from_serialize(&fields),
                error => error_message(&state, page.lang, &error),
            };
            page.render(
                &state,
                error_status(&error),
                "register.html",
                "register",
                context,
            )
        }
    }
}
