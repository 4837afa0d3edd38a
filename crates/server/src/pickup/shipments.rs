//! The municipality receives the bureau's shipments: the list, and a shipment
//! received when the cards counted equal its manifest (API and console page).

use crate::http::officer::error_message;
use crate::http::{error_status, Authenticated, Body, ConsolePage, Reply};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maina_proto::{ErrorBody, ReceiveShipmentRequest, ShipmentResponse};
use maina_service::pickup::issue::shipment_response as response;
use maina_service::{Actor, CardNumber, MunicipalityCode, ServiceError};
use serde::Deserialize;

fn own_municipality(actor: &Actor) -> Result<MunicipalityCode, ServiceError> {
    actor.municipality.ok_or_else(|| {
        ServiceError::invalid(
            "municipality",
            "an officer of a municipality receives its shipments",
        )
    })
}

/// Parses the counted card numbers, naming the first bad one.
fn counted(numbers: &[String]) -> Result<Vec<CardNumber>, ServiceError> {
    numbers
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .enumerate()
        .map(|(index, n)| {
            n.parse()
                .map_err(|e| ServiceError::invalid(&format!("counted[{index}]"), format!("{e}")))
        })
        .collect()
}

/// The shipments to the officer's municipality, newest first.
#[utoipa::path(get, path = "/api/v1/shipments", tag = "pickup", security(("bearer" = [])),
    responses((status = 200, body = [ShipmentResponse]), (status = 403, body = ErrorBody)))]
pub async fn list(state: State<AppState>, auth: Authenticated) -> Reply<Vec<ShipmentResponse>> {
    let actor = auth.actor();
    let code = own_municipality(&actor)?;
    let list = state.service.shipments(&actor, &code).await?;
    Ok(Json(list.iter().map(response).collect()))
}

/// Receive a shipment: the card numbers counted must be exactly its manifest's;
/// otherwise nothing is received and the refusal names the missing and extra cards.
#[utoipa::path(post, path = "/api/v1/shipments/{id}/receive", request_body = ReceiveShipmentRequest, tag = "pickup", security(("bearer" = [])),
    params(("id" = u64, Path, description = "shipment number")),
    responses((status = 200, body = ShipmentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn receive(
    state: State<AppState>,
    auth: Authenticated,
    Path(id): Path<u64>,
    Body(request): Body<ReceiveShipmentRequest>,
) -> Reply<ShipmentResponse> {
    let numbers = counted(&request.counted)?;
    let received = state
        .service
        .receive_shipment(&auth.actor(), id, &numbers)
        .await?;
    Ok(Json(response(&received)))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/console/shipments", get(shipments_page))
        .route("/console/shipments/receive", post(receive_page))
}

async fn render(
    state: &AppState,
    page: &ConsolePage,
    status: StatusCode,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    let actor = page.auth.actor();
    let listed = match own_municipality(&actor) {
        Ok(code) => state.service.shipments(&actor, &code).await,
        Err(error) => Err(error),
    };
    let rows: Vec<minijinja::Value> = match listed {
        Ok(list) => list
            .iter()
            .map(|record| minijinja::Value::from_serialize(response(record)))
            .collect(),
        Err(refusal) => {
            let status = error_status(&refusal);
            return page.render(
                state,
                status,
                "shipments.html",
                "shipments-title",
                minijinja::context! { rows => Vec::<minijinja::Value>::new(), error => error_message(state, page.lang, &refusal) },
            );
        }
    };
    page.render(
        state,
        status,
        "shipments.html",
        "shipments-title",
        minijinja::context! { rows, message, error },
    )
}

/// The list, each shipment in transit with a box for the card numbers counted.
async fn shipments_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    render(&state, &page, StatusCode::OK, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct ReceiveForm {
    shipment: u64,
    counted: String,
}

async fn receive_page(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(form): Form<ReceiveForm>,
) -> Response {
    let lines: Vec<String> = form.counted.lines().map(str::to_owned).collect();
    let outcome = match counted(&lines) {
        Ok(numbers) => {
            state
                .service
                .receive_shipment(&page.auth.actor(), form.shipment, &numbers)
                .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(received) => {
            let message = format!(
                "{} {}: {}",
                state.pages.message(page.lang, "shipments-received"),
                received.id,
                received.card_count
            );
            render(&state, &page, StatusCode::OK, Some(message), None).await
        }
        Err(error) => {
            let status = error_status(&error);
            let shown = error_message(&state, page.lang, &error);
            render(&state, &page, status, None, Some(shown)).await
        }
    }
}
