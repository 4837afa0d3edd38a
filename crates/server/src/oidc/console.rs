//! The supervisor's relying-party page (`/console/parties`): the parties listed,
//! a new one registered (its client secret shown once), a party disabled. Each
//! calls the same service use case as `maina rp`.

use crate::http::officer::error_message;
use crate::http::{error_status, ConsolePage};
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maina_service::oidc::NewParty;
use serde::Deserialize;

const TEMPLATE: &str = "oidc_parties.html";
const TITLE: &str = "oidc-parties-title";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/parties", get(parties_page).post(add_party))
        .route("/console/parties/disable", post(disable_party))
}

#[derive(Debug, Deserialize)]
pub struct PartyForm {
    name: String,
    redirect_uri: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    sector: String,
}

#[derive(Debug, Deserialize)]
pub struct DisableForm {
    client_id: String,
}

async fn render(
    state: &AppState,
    page: &ConsolePage,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    let parties = match state.service.relying_parties(&page.auth.actor()).await {
        Ok(parties) => parties
            .into_iter()
            .map(|p| {
                minijinja::context! {
                    client_id => p.client_id, name => p.name, kind => p.kind,
                    redirect_uris => p.redirect_uris, sector => p.sector,
                    disabled => p.disabled, first_party => p.first_party,
                }
            })
            .collect::<Vec<_>>(),
        Err(error) => {
            let message = error_message(state, page.lang, &error);
            return page.render(
                state,
                error_status(&error),
                TEMPLATE,
                TITLE,
                minijinja::context! { error => message },
            );
        }
    };
    let context = minijinja::context! { ..extra, ..minijinja::context! { parties } };
    page.render(state, status, TEMPLATE, TITLE, context)
}

async fn parties_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    render(&state, &page, StatusCode::OK, minijinja::context! {}).await
}

async fn add_party(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(form): Form<PartyForm>,
) -> Response {
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let new = NewParty {
        name: form.name,
        redirect_uris: form
            .redirect_uri
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        kind: optional(&form.kind),
        sector: optional(&form.sector),
        ..NewParty::default()
    };
    match state
        .service
        .add_relying_party(&page.auth.actor(), &new)
        .await
    {
        Ok(created) => {
            let created = minijinja::context! {
                client_id => created.client_id, client_secret => created.client_secret,
                sector => created.sector,
            };
            render(
                &state,
                &page,
                StatusCode::OK,
                minijinja::context! { created },
            )
            .await
        }
        Err(error) => {
            let message = error_message(&state, page.lang, &error);
            render(
                &state,
                &page,
                error_status(&error),
                minijinja::context! { error => message },
            )
            .await
        }
    }
}

async fn disable_party(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(form): Form<DisableForm>,
) -> Response {
    let outcome = state
        .service
        .disable_relying_party(&page.auth.actor(), &form.client_id)
        .await;
    match outcome {
        Ok(()) => render(&state, &page, StatusCode::OK, minijinja::context! {}).await,
        Err(error) => {
            let message = error_message(&state, page.lang, &error);
            render(
                &state,
                &page,
                error_status(&error),
                minijinja::context! { error => message },
            )
            .await
        }
    }
}
