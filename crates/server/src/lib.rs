//! maina's HTTP server: the JSON API, the officer console, the public pages and the
//! card PKI's endpoints, by feature. Each feature folder holds its API handlers
//! and its pages side by side; both are thin adapters over `maina-service`'s use
//! cases. This file only assembles the state and the router.

pub mod applications;
pub mod audit;
pub mod card_life;
pub mod config;
pub mod home;
pub mod http;
pub mod oidc;
pub mod openapi;
pub mod pickup;
pub mod pki;
pub mod portal;
pub mod residents;
pub mod session;
pub mod signatures;
mod workers;

pub use config::{LogFormat, ServerConfig};

use crate::http::templates::Pages;
use crate::http::ApiError;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware::from_fn_with_state;
use axum::Router;
use maina_service::Service;
use maina_service::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Parts>);

/// What every handler shares, behind one `Arc`: axum clones the state for each
/// request, and one contended reference count is cheaper than four.
#[derive(Clone, Debug)]
pub struct Parts {
    /// The use cases.
    pub service: Service,
    pub config: Arc<ServerConfig>,
    pub pages: Arc<Pages>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<serde_json::Value>,
    /// The headers every response carries (`http/headers.rs`).
    pub security_headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl std::ops::Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        let service = Service::new(store, config.service_config());
        Self(Arc::new(Parts {
            pages: Arc::new(Pages::load(service.messages.clone())),
            security_headers: Arc::new(http::headers::security_headers(
                config.public_url.as_deref(),
            )),
            service,
            config: Arc::new(config),
            openapi: Arc::new(openapi::document()),
        }))
    }

    /// Serves the card PKI (CRLs, CA certificates, OCSP) with these authorities.
    pub fn with_authorities(self, authorities: maina_service::Authorities) -> Self {
        let parts = Arc::unwrap_or_clone(self.0);
        Self(Arc::new(Parts {
            service: parts.service.with_authorities(authorities),
            ..parts
        }))
    }

    /// The use cases behind this server.
    pub fn service(&self) -> &Service {
        &self.service
    }
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let (api, _) = openapi::routes();
    let max_body = state.config.max_body_bytes;
    // Every page router behind one CSRF layer; the API (bearer tokens), the booth's
    // API (its key) and the PKI's endpoints take no cookies and need none.
    let pages = Router::new()
        .merge(session::pages::routes())
        .merge(residents::pages::routes())
        .merge(applications::page_routes())
        .merge(pickup::page_routes())
        .merge(card_life::page_routes())
        .merge(oidc::page_routes())
        .merge(portal::routes())
        .layer(from_fn_with_state(
            state.clone(),
            http::csrf::require_same_origin,
        ));
    Router::new()
        .merge(home::routes())
        .merge(api)
        .merge(pages)
        .merge(pki::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The route's template, never the path: paths carry resident record
                // codes and receipt numbers, query strings could carry anything.
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("(no route)", MatchedPath::as_str);
                tracing::info_span!("request", id, method = %request.method(), route)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(from_fn_with_state(
            state.clone(),
            http::headers::add_security_headers,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("page or endpoint")
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    addr: SocketAddr,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    on_ready(listener.local_addr()?);
    let workers = workers::Workers::start(&state)?;
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    workers.stop();
    served?;
    Ok(())
}
