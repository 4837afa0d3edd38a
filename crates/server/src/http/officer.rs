//! The officer behind a console page (the session cookie), and what every console
//! page shows of them.

use super::extract::Authenticated;
use crate::AppState;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maina_service::ServiceError;

/// The officer behind the session cookie, or a redirect to the log-in page.
pub async fn console_officer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Authenticated, Response> {
    match Authenticated::from_headers(state, headers).await {
        Ok(mut auth) => {
            auth.purpose = "console".into();
            Ok(auth)
        }
        Err(_) => Err(Redirect::to("/login").into_response()),
    }
}

/// The officer as the console's header shows them.
pub fn officer_context(auth: &Authenticated) -> minijinja::Value {
    minijinja::context! {
        username => auth.officer.username.clone(),
        role => auth.officer.role.as_str(),
        municipality => auth.officer.municipality.as_digits(),
    }
}

/// A refusal in the page's language where the catalogue has one.
pub fn error_message(state: &AppState, lang: &str, error: &ServiceError) -> String {
    match error.code {
        "not_found" => state.pages.message(lang, "not-found"),
        "forbidden" => state.pages.message(lang, "forbidden"),
        _ => error.message.clone(),
    }
}
