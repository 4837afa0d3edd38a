//! The console's log-in page and log-out.

use crate::http::csrf;
use crate::http::error_status;
use crate::http::extract::SESSION_COOKIE;
use crate::http::i18n::{language, with_lang_cookie, LangQuery};
use crate::http::officer::console_officer;
use crate::AppState;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let page = state.pages.render(
        "login.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "login-title") },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    match state
        .service
        .log_in(peer.ip(), &form.username, &form.password)
        .await
    {
        Ok((_, token)) => {
            let secure = if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                state.config.session_minutes * 60
            );
            let mut response = Redirect::to("/console").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(error) => {
            let message = match error.code {
                "account_locked" => state.pages.message(lang, "login-locked"),
                "too_many_attempts" => state.pages.message(lang, "login-throttled"),
                _ => state.pages.message(lang, "login-failed"),
            };
            state.pages.render_status(
                error_status(&error),
                "login.html",
                lang,
                minijinja::context! { title => state.pages.message(lang, "login-title"), error => message },
            )
        }
    }
}

async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(auth) = console_officer(&state, &headers).await {
        let _ = state.service.log_out(&auth.token).await;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("maina_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}
