//! The JSON API's routes under `/api/v1` and their OpenAPI document, generated
//! from the handlers' annotations and `maina-proto`'s schemas.

use crate::{
    applications, audit, card_life, oidc, pickup, residents, session, signatures, AppState,
};
use maina_proto::ErrorBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Signature verifiers authenticate with their client id and secret.
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "maina API", description = "Japan's My Number system: the resident registry for municipal officers."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The API routes and their OpenAPI document.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    use applications::{booth, mailed, review, status};
    use residents::api as registry;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::api::login))
        .routes(routes!(session::api::logout))
        .routes(routes!(registry::register))
        .routes(routes!(registry::search))
        .routes(routes!(registry::lookup))
        .routes(routes!(registry::show))
        .routes(routes!(registry::reveal))
        .routes(routes!(registry::history))
        .routes(routes!(registry::move_resident))
        .routes(routes!(registry::change_address))
        .routes(routes!(registry::rename))
        .routes(routes!(registry::depart))
        .routes(routes!(registry::death))
        .routes(routes!(registry::number_change))
        .routes(routes!(audit::api::audit))
        .routes(routes!(status::application_status))
        .routes(routes!(review::show_application))
        .routes(routes!(review::application_event))
        .routes(routes!(review::stuck))
        .routes(routes!(pickup::counter::find_card))
        .routes(routes!(pickup::counter::counter_card))
        .routes(routes!(pickup::counter::open_pinpad))
        .routes(routes!(pickup::counter::hand_over))
        .routes(routes!(pickup::counter::post_home))
        .routes(routes!(pickup::counter::delivered))
        .routes(routes!(pickup::counter::open_home_pinpad))
        .routes(routes!(card_life::renewal::reissue))
        .routes(routes!(card_life::renewal::renewal_window))
        .routes(routes!(pickup::pinpad::pinpad_code))
        .routes(routes!(pickup::pinpad::pinpad_pins))
        .routes(routes!(card_life::chip::open_pin_reset))
        .routes(routes!(card_life::chip::pinpad_reset))
        .routes(routes!(pickup::shipments::list))
        .routes(routes!(pickup::shipments::receive))
        .routes(routes!(
            pickup::offices::show_office,
            pickup::offices::update_office
        ))
        .routes(routes!(pickup::appointments::slots))
        .routes(routes!(pickup::appointments::book))
        .routes(routes!(pickup::appointments::move_appointment))
        .routes(routes!(pickup::appointments::cancel))
        .routes(routes!(pickup::appointments::day_list))
        .routes(routes!(card_life::history::card_history))
        .routes(routes!(card_life::history::resident_cards))
        .routes(routes!(card_life::moving::notes))
        .routes(routes!(card_life::moving::move_out))
        .routes(routes!(card_life::moving::move_in))
        .routes(routes!(card_life::moving::continued_use))
        .routes(routes!(card_life::suspension::suspend_card))
        .routes(routes!(card_life::suspension::identify_caller))
        .routes(routes!(card_life::suspension::report_lost_card))
        .routes(routes!(card_life::suspension::lift_challenge))
        .routes(routes!(card_life::suspension::lift_suspension))
        .routes(routes!(oidc::api::discovery))
        .routes(routes!(oidc::api::jwks))
        .routes(routes!(oidc::api::token))
        .routes(routes!(oidc::api::userinfo))
        .routes(routes!(oidc::api::card_challenge))
        .routes(routes!(oidc::api::card_answer))
        .routes(routes!(oidc::pages::authorize))
        .routes(routes!(oidc::pages::status))
        .routes(routes!(oidc::pages::continue_signin))
        .routes(routes!(oidc::pages::consent))
        .routes(routes!(oidc::pages::card_page))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(mailed::mail_application))
                .routes(routes!(booth::booth_application))
                .layer(axum::extract::DefaultBodyLimit::max(
                    applications::UPLOAD_LIMIT,
                )),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(signatures::api::verify))
                .layer(axum::extract::DefaultBodyLimit::max(signatures::BODY_LIMIT)),
        )
        .split_for_parts()
}

/// The OpenAPI document as served, with its links.
pub fn document() -> serde_json::Value {
    let (_, openapi) = routes();
    let mut document = serde_json::to_value(openapi).unwrap_or_default();
    add_links(&mut document);
    document
}

/// OpenAPI links: what a client (and schemathesis's stateful phase) may call
/// with the value an answer gave, e.g. a registered resident's record code.
/// Written into the JSON: utoipa 5.5 serialises a link's `operationId` as
/// `operation_id`, which no client reads.
fn add_links(document: &mut serde_json::Value) {
    const RESIDENT_CODE: (&str, &str) = ("code", "$response.body#/resident_code");
    const RECEIPT: (&str, &str) = ("receipt", "$response.body#/receipt");
    /// A POST's answer (path, status), the operations it links to, and the
    /// parameter they take from it.
    type Links<'a> = (&'a str, &'a str, &'a [&'a str], (&'a str, &'a str));
    let links: [Links; 2] = [
        (
            "/api/v1/residents",
            "201",
            &["show", "history", "reveal", "change_address", "rename"],
            RESIDENT_CODE,
        ),
        (
            "/api/v1/applications/mail",
            "201",
            &["show_application", "application_event"],
            RECEIPT,
        ),
    ];
    for (path, status, operations, (name, value)) in links {
        let Some(response) = document
            .pointer_mut(&format!(
                "/paths/{}/post/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(serde_json::Value::as_object_mut)
        else {
            continue;
        };
        let linked: serde_json::Map<String, serde_json::Value> = operations
            .iter()
            .map(|id| {
                let link = serde_json::json!({"operationId": id, "parameters": {name: value}});
                ((*id).to_string(), link)
            })
            .collect();
        response.insert("links".into(), linked.into());
    }
}
