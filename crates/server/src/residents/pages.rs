//! The officer console's registry pages: search, look-up by number, a resident's
//! record with its history, the change forms and registration.

use crate::http::csrf;
use crate::http::error_status;
use crate::http::extract::clean_purpose;
use crate::http::i18n::{language, with_lang_cookie, LangQuery};
use crate::http::officer::{console_officer, error_message, officer_context};
use crate::http::Authenticated;
use crate::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maina_core::person::NameChange;
use maina_core::resident::RegistrationForm;
use maina_core::ResidentCode;
use maina_proto::ResidentResponse;
use maina_service::residents::ResidentChange;
use maina_service::ServiceError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(console))
        .route("/console/lookup", post(lookup))
        .route(
            "/console/register",
            get(register_page).post(register_submit),
        )
        .route("/console/residents/{code}", get(resident_page))
        .route("/console/residents/{code}/address", post(address_submit))
        .route("/console/residents/{code}/move", post(move_submit))
        .route("/console/residents/{code}/rename", post(rename_submit))
        .route(
            "/console/residents/{code}/departure",
            post(departure_submit),
        )
}

#[derive(Debug, Deserialize, Default, Serialize)]
pub struct SearchForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

/// The console page with an error in the page's language and the error's status.
fn console_error(
    state: &AppState,
    lang: &str,
    auth: &Authenticated,
    error: &ServiceError,
) -> Response {
    state.pages.render_status(
        error_status(error),
        "console.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "console"),
            officer => officer_context(auth),
            query => minijinja::Value::from_serialize(SearchForm::default()),
            error => error_message(state, lang, error),
        },
    )
}

async fn console(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SearchForm>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let mut error = None;
    let mut results: Vec<ResidentResponse> = vec![];
    let mut searched = false;
    if !query.code.trim().is_empty() {
        searched = true;
        match query.code.parse::<ResidentCode>() {
            Ok(code) => {
                return Redirect::to(&format!("/console/residents/{}", code.as_digits()))
                    .into_response()
            }
            Err(e) => {
                error = Some(format!(
                    "{}: {e}",
                    state.pages.message(lang, "resident-code")
                ))
            }
        }
    } else if !query.birth_date.trim().is_empty() {
        searched = true;
        match state
            .service
            .search(
                &auth.actor(),
                &auth.officer.municipality,
                &query.birth_date,
                &query.name,
            )
            .await
        {
            Ok(found) => results = found,
            Err(e) => error = Some(error_message(&state, lang, &e)),
        }
    }
    let page = state.pages.render(
        "console.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "console"),
            officer => officer_context(&auth),
            query => minijinja::Value::from_serialize(&query),
            results => minijinja::Value::from_serialize(&results),
            searched => searched,
            error => error,
        },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    my_number: String,
    purpose: String,
}

async fn lookup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LookupForm>,
) -> Response {
    let lang = language(&headers, None);
    let mut auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    auth.purpose = clean_purpose(&form.purpose);
    match state
        .service
        .resident_by_number(&auth.actor(), &form.my_number)
        .await
    {
        Ok(found) => {
            Redirect::to(&format!("/console/residents/{}", found.resident_code)).into_response()
        }
        Err(error) => console_error(&state, lang, &auth, &error),
    }
}

async fn resident_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let page = match state
        .service
        .record_with_history(&auth.actor(), &code)
        .await
    {
        Ok(found) => {
            let notice = query
                .notice
                .as_deref()
                .filter(|n| ["saved", "registered"].contains(n))
                .map(|n| state.pages.message(lang, n));
            state.pages.render(
                "resident.html",
                lang,
                minijinja::context! {
                    title => found.resident.name.clone(),
                    officer => officer_context(&auth),
                    r => minijinja::Value::from_serialize(&found.resident),
                    history => minijinja::Value::from_serialize(&found.history),
                    notice => notice,
                },
            )
        }
        Err(error) => console_error(&state, lang, &auth, &error),
    };
    with_lang_cookie(page, query.lang.as_deref())
}

/// A form's field as typed; absent is empty (the use case says what is missing).
fn field(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// The form's date: blank means today.
fn form_date(fields: &HashMap<String, String>) -> Option<String> {
    fields
        .get("date")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
}

/// Applies a change from a console form: the same use case as the API's.
async fn change_submit(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
    change: ResidentChange,
) -> Response {
    let lang = language(headers, None);
    let auth = match console_officer(state, headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if let Some(refused) = csrf::refusal(headers) {
        return refused;
    }
    match state
        .service
        .change_resident(&auth.actor(), code, &change)
        .await
    {
        Ok(changed) => Redirect::to(&format!(
            "/console/residents/{}?notice=saved",
            changed.resident_code
        ))
        .into_response(),
        Err(error) => console_error(state, lang, &auth, &error),
    }
}

async fn address_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let change = ResidentChange::Address {
        address: field(&fields, "address"),
        date: form_date(&fields),
    };
    change_submit(&state, &headers, &code, change).await
}

async fn move_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let change = ResidentChange::Move {
        municipality: field(&fields, "municipality"),
        address: field(&fields, "address"),
        date: form_date(&fields),
    };
    change_submit(&state, &headers, &code, change).await
}

async fn rename_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    // The form sends every part of the resident's script; the shared rule checks
    // them like the API's and the command line's.
    let part = |name: &str| fields.get(name).cloned();
    let change = ResidentChange::Rename {
        change: NameChange {
            family_name: part("family_name"),
            given_name: part("given_name"),
            family_kana: part("family_kana"),
            given_kana: part("given_kana"),
            alphabet_name: part("alphabet_name"),
            alias: part("alias"),
            name_kana: None,
        },
        date: form_date(&fields),
    };
    change_submit(&state, &headers, &code, change).await
}

async fn departure_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let change = ResidentChange::Departure {
        date: form_date(&fields),
    };
    change_submit(&state, &headers, &code, change).await
}

async fn register_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let page = state.pages.render(
        "register.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "register"),
            officer => officer_context(&auth),
            form => minijinja::Value::from_serialize(HashMap::<String, String>::new()),
        },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn register_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let lang = language(&headers, None);
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    let get = |name: &str| fields.get(name).cloned();
    let form = RegistrationForm {
        municipality: Some(auth.officer.municipality.as_digits()),
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
    match state.service.register(&auth.actor(), &form).await {
        Ok(registered) => Redirect::to(&format!(
            "/console/residents/{}?notice=registered",
            registered.resident_code
        ))
        .into_response(),
        Err(error) => state.pages.render_status(
            error_status(&error),
            "register.html",
            lang,
            minijinja::context! {
                title => state.pages.message(lang, "register"),
                officer => officer_context(&auth),
                form => minijinja::Value::from_serialize(&fields),
                error => error_message(&state, lang, &error),
            },
        ),
    }
}
