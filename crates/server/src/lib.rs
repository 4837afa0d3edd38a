//! maina's HTTP server. For now: health and readiness probes and a landing page;
//! the JSON API and the officer console build on this router.

pub mod api;
pub mod applications;
pub mod auth;
pub mod booth;
pub mod config;
pub mod dates;
pub mod error;
pub mod inquiry;
pub mod mail;
pub mod notice;
pub mod online;
pub mod pages;
pub mod photo;
pub mod pki;

pub use config::{LogFormat, ServerConfig};

use crate::auth::LoginThrottle;
use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use maina_store::{LoginFailure, Officer, Store};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What every handler shares, behind one `Arc`: axum clones the state for each
/// request, and one reference count is cheaper than a dozen.
#[derive(Clone)]
pub struct Shared {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    pub throttle: Arc<LoginThrottle>,
    pub sessions: Arc<auth::SessionCache>,
    pub pages: Arc<pages::Pages>,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// The online channel's CAPTCHA.
    pub captcha: Arc<online::Captcha>,
    /// Failed status inquiries, per number and per address.
    pub inquiries: Arc<inquiry::InquiryThrottle>,
    /// The card authorities (absent when the data directory has none).
    pub authorities: Option<Arc<maina_pki::Authorities>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Self {
        let (_, openapi) = api::routes();
        Self(Arc::new(Shared {
            store,
            throttle: Arc::new(LoginThrottle::new(config.login_attempts_per_minute)),
            sessions: Arc::new(auth::SessionCache::default()),
            pages: pages::shared(),
            config: Arc::new(config),
            openapi: Arc::new(openapi),
            authorities: None,
            inquiries: Arc::new(inquiry::InquiryThrottle::default()),
            captcha: Arc::new(online::Captcha::default()),
        }))
    }

    /// Serves the card PKI (CRLs, CA certificates, OCSP) with these authorities.
    pub fn with_authorities(mut self, authorities: maina_pki::Authorities) -> Self {
        Arc::make_mut(&mut self.0).authorities = Some(Arc::new(authorities));
        self
    }
}

/// Checks a log-in against the address throttle and the account lockout; the one
/// path used by the API and the pages.
pub async fn log_in(
    state: &AppState,
    address: IpAddr,
    username: &str,
    password: &str,
) -> Result<(Officer, String), ApiError> {
    if !state.throttle.allowed(address) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed log-ins from this address; wait a minute",
        ));
    }
    let ttl = state.config.session_minutes * 60 * 1_000_000;
    match state.store.login(username, password, ttl).await? {
        Ok(session) => Ok(session),
        Err(LoginFailure::BadCredentials) => {
            state.throttle.failed(address);
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "unknown user name or wrong password",
            ))
        }
        Err(LoginFailure::Locked { .. }) => {
            state.throttle.failed(address);
            Err(ApiError::new(
                StatusCode::LOCKED,
                "account_locked",
                "too many failed log-ins: the account is locked for 15 minutes (a supervisor can reset the password)",
            ))
        }
    }
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let (api, _) = api::routes();
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .merge(api)
        .merge(pages::routes())
        .merge(pki::routes())
        .merge(online::routes())
        .merge(booth::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings could carry personal data.
            tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("page or endpoint")
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers too.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "database": state.store.backend().name()})),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({"status": "unavailable", "database": state.store.backend().name()}),
                ),
            )
        }
    }
}

async fn index(State(state): State<AppState>) -> impl IntoResponse {
    let residents = state.store.resident_count().await.unwrap_or(0);
    let municipalities = state.store.municipalities().await.unwrap_or_default();
    let rows: String = municipalities
        .iter()
        .map(|m| {
            format!(
                "<li>{} {} ({})</li>",
                m.code.as_digits(),
                escape(&m.name_ja),
                escape(&m.name_en)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>maina</title></head>\
         <body><h1>maina — My Number registry</h1><p lang=\"ja\">マイナンバー住民登録システム</p>\
         <p>{residents} residents on {}.</p><ul>{rows}</ul></body></html>",
        state.store.backend().name()
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
    let maintenance = tokio::spawn(maintenance(state.store.clone()));
    let upkeep = tokio::spawn(upkeep(state.clone()));
    let mailer = match &state.config.smtp_url {
        Some(url) => {
            let settings = mail::MailSettings::parse(
                url,
                state.config.smtp_ca_file.as_deref(),
                &state.config.mail_from,
                state.config.mail_retry_seconds,
            )
            .map_err(|message| {
                ServeError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    message,
                ))
            })?;
            Some(tokio::spawn(mail::worker(state.store.clone(), settings)))
        }
        None => None,
    };
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    maintenance.abort();
    upkeep.abort();
    if let Some(mailer) = mailer {
        mailer.abort();
    }
    served?;
    Ok(())
}

/// Background upkeep while serving: merges the search index's pending entries
/// every half minute, so searches stay index look-ups.
async fn maintenance(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    loop {
        tick.tick().await;
        if let Err(error) = store.merge_search_index().await {
            tracing::warn!(%error, "merging the search index failed; will retry");
        }
    }
}

/// Every ten minutes: tells applicants whose card is stuck in issuance.
async fn upkeep(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        match applications::notify_stuck(&state).await {
            Ok(0) => {}
            Ok(told) => tracing::info!(told, "applicants told of stuck applications"),
            Err(error) => tracing::warn!(%error, "stuck applications could not be checked"),
        }
    }
}

/// The framework's ceiling for benchmarks: the same route shape answered with a
/// constant, no state, no database.
pub fn bare_router() -> Router {
    Router::new().route(
        "/api/v1/residents/{code}",
        get(|| async { Json(serde_json::json!({"resident_code": "00000000000"})) }),
    )
}

/// The status inquiry's ceiling for benchmarks: the raw point look-up of the same
/// rows in the same database (the look-up key given, no keyed hashing, no check,
/// no throttle), answered as JSON.
pub fn bare_inquiry_router(store: Store) -> Router {
    Router::new()
        .route(
            "/bare/{key}",
            get(|State(store): State<Store>, axum::extract::Path(key): axum::extract::Path<i64>| async move {
                match store.bench_lookup(key).await {
                    Ok(Some((status, since))) => Json(serde_json::json!({"status": status, "since": since})).into_response(),
                    Ok(None) => StatusCode::NOT_FOUND.into_response(),
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }),
        )
        .with_state(store)
}

/// Serves a bare router until `shutdown` resolves.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Serves [`bare_router`] until `shutdown` resolves.
pub async fn serve_bare(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, bare_router())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
