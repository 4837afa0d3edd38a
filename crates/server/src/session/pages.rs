//! The console's log-in page and log-out.

use crate::http::error_status;
use crate::http::extract::{Authenticated, SESSION_COOKIE};
use crate::http::{ClientAddress, Page};
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
}

async fn login_page(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! {};
    page.render(&state, StatusCode::OK, "login.html", "login-title", context)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// The session cookie for `token`.
fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = state.config.session_minutes * 60;
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

async fn login_submit(
    state: State<AppState>,
    from: ClientAddress,
    page: Page,
    Form(form): Form<LoginForm>,
) -> Response {
    let logged_in = state
        .service
        .log_in(from.0, &form.username, &form.password)
        .await;
    match logged_in {
        Ok((_, token)) => {
            let mut response = Redirect::to("/console").into_response();
            if let Ok(value) = HeaderValue::from_str(&session_cookie(&state, &token)) {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(error) => {
            let message = match error.code {
                "account_locked" => "login-locked",
                "too_many_attempts" => "login-throttled",
                _ => "login-failed",
            };
            let context = minijinja::context! { error => state.pages.message(page.lang, message) };
            page.render(
                &state,
                error_status(&error),
                "login.html",
                "login-title",
                context,
            )
        }
    }
}

async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(auth) = Authenticated::from_cookie(&state, &headers).await {
        let _ = state.service.log_out(&auth.token).await;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("maina_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}
