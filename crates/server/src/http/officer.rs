//! What every console page shows of its officer, and refusals in the page's
//! language.

use super::extract::Authenticated;
use crate::AppState;
use maina_service::ServiceError;

/// The officer as the console's header shows them.
pub fn officer_context(auth: &Authenticated) -> minijinja::Value {
    minijinja::context! {
        username => auth.officer.username.clone(),
        role => auth.officer.role.as_str(),
        municipality => auth.officer.municipality.as_digits(),
    }
}

/// A refusal in the page's language: the catalogue's message for its code when
/// `known` names one (code, message id), else the refusal's own message.
pub fn message_for(
    state: &AppState,
    lang: &str,
    error: &ServiceError,
    known: &[(&str, &str)],
) -> String {
    known
        .iter()
        .find(|(code, _)| *code == error.code)
        .map_or_else(
            || error.message.clone(),
            |(_, id)| state.pages.message(lang, id),
        )
}

/// A refusal on a console page.
pub fn error_message(state: &AppState, lang: &str, error: &ServiceError) -> String {
    let known = [("not_found", "not-found"), ("forbidden", "forbidden")];
    message_for(state, lang, error, &known)
}
