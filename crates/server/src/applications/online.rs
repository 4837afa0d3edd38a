//! The online channel's pages (smartphone and PC, one responsive flow): step 1
//! takes the form ID (typed, or from the QR code's URL), the name, an e-mail
//! address and a CAPTCHA answer, and e-mails a one-time link; step 2, behind the
//! link, takes the photo (from storage or the phone's camera), the birth date and
//! the two choices; step 3 confirms with the receipt number. The rules are the
//! service's (`maina_service::applications::online`).

use super::upload::{read_upload, text, ticked};
use crate::http::csrf;
use crate::http::i18n::{language, with_lang_cookie};
use crate::AppState;
use axum::extract::{ConnectInfo, Form, Multipart, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maina_service::applications::online::{OnlineCompletion, OnlineRefusal, OnlineStart, Refused};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/apply", get(apply_page).post(apply_submit))
        .route(
            "/apply/continue",
            get(continue_page)
                .post(continue_submit)
                .layer(axum::extract::DefaultBodyLimit::max(super::UPLOAD_LIMIT)),
        )
}

/// The address residents reach this server at (for the e-mailed link).
fn public_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1:8080");
            format!("http://{host}")
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ApplyQuery {
    form: Option<String>,
    lang: Option<String>,
}

/// Step 1's page, with what was typed and what to fix.
fn step_one(
    state: &AppState,
    lang: &str,
    typed: [&str; 3],
    error: Option<String>,
    sent: bool,
) -> Response {
    let [form_id, name, email] = typed;
    let (question, token) = state.service.captcha.question();
    state.pages.render(
        "apply.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "apply-title"), step => 1, sent,
            form_id, name, email, error,
            captcha_question => format!("{question} ="), captcha_token => token,
        },
    )
}

async fn apply_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ApplyQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let form = query.form.unwrap_or_default();
    with_lang_cookie(
        step_one(&state, lang, [&form, "", ""], None, false),
        query.lang.as_deref(),
    )
}

#[derive(Debug, Deserialize)]
pub struct StepOneForm {
    form_id: String,
    name: String,
    email: String,
    captcha: String,
    captcha_token: String,
}

async fn apply_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<StepOneForm>,
) -> Response {
    let lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    let url = public_url(&state, &headers);
    let start = OnlineStart {
        form_id: &form.form_id,
        name: &form.name,
        email: &form.email,
        captcha_answer: &form.captcha,
        captcha_token: &form.captcha_token,
        language: lang,
        public_url: &url,
    };
    let m = |id: &str| state.pages.message(lang, id);
    let message = match state
        .service
        .start_online_application(&start, peer.ip())
        .await
    {
        Ok(()) => return step_one(&state, lang, ["", "", ""], None, true),
        Err(OnlineRefusal::Unavailable) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
        Err(OnlineRefusal::CaptchaWrong) => m("apply-captcha-wrong"),
        Err(OnlineRefusal::Name) => format!("{}: 1–100", m("name")),
        Err(OnlineRefusal::Email) => format!("{}: ?", m("apply-email")),
        Err(_) => m("apply-form-unusable"),
    };
    let mut page = step_one(
        &state,
        lang,
        [&form.form_id, &form.name, &form.email],
        Some(message),
        false,
    );
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    page
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    token: String,
}

/// Step 2's page.
fn step_two(
    state: &AppState,
    lang: &str,
    token: &str,
    birth_date: &str,
    problems: Vec<(String, String)>,
    error: Option<String>,
) -> Response {
    let problems: Vec<minijinja::Value> = problems
        .into_iter()
        .map(|(code, text)| minijinja::context! { code, text })
        .collect();
    state.pages.render(
        "apply.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "apply-title"), step => 2, token, birth_date, problems, error },
    )
}

async fn continue_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ContinueQuery>,
) -> Response {
    let lang = language(&headers, None);
    match state.service.online_link(&query.token).await {
        Some(link) => step_two(&state, &link.language, &query.token, "", Vec::new(), None),
        None => link_unusable(&state, lang),
    }
}

/// The answer to a used, expired or unknown link (410 Gone).
fn link_unusable(state: &AppState, lang: &str) -> Response {
    let mut page = state.pages.render(
        "apply.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "apply-title"), step => 0, error => state.pages.message(lang, "apply-link-unusable") },
    );
    *page.status_mut() = StatusCode::GONE;
    page
}

async fn continue_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let page_lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    let (fields, photo) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let token = text(&fields, "token");
    let birth_text = text(&fields, "birth_date");
    let mobile = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mobile"));
    let completion = OnlineCompletion {
        token: &token,
        birth_date: &birth_text,
        photo,
        electronic_certificate: ticked(&fields, "certificate"),
        braille: ticked(&fields, "braille"),
        mobile,
    };
    let Refused { language, reason } =
        match state.service.complete_online_application(completion).await {
            Ok(done) => {
                return state.pages.render(
                    "apply.html",
                    done.language,
                    minijinja::context! { title => state.pages.message(done.language, "apply-title"), step => 3, receipt => done.receipt, status => done.status },
                )
            }
            Err(refused) => refused,
        };
    let lang = language.unwrap_or(page_lang);
    let m = |id: &str| state.pages.message(lang, id);
    let refused = |mut page: Response, status: StatusCode| {
        *page.status_mut() = status;
        page
    };
    match reason {
        OnlineRefusal::LinkUnusable if language.is_none() => link_unusable(&state, lang),
        OnlineRefusal::LinkUnusable => (StatusCode::GONE, m("apply-link-unusable")).into_response(),
        OnlineRefusal::BirthDate => refused(
            step_two(
                &state,
                lang,
                &token,
                &birth_text,
                Vec::new(),
                Some(format!("{}: YYYY-MM-DD", m("birth-date"))),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        OnlineRefusal::Photo(codes) => {
            let problems = codes
                .into_iter()
                .map(|code| {
                    let text = m(&code);
                    (code, text)
                })
                .collect();
            refused(
                step_two(&state, lang, &token, &birth_text, problems, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        OnlineRefusal::FormUnusable => refused(
            step_one(
                &state,
                lang,
                ["", "", ""],
                Some(m("apply-form-unusable")),
                false,
            ),
            StatusCode::CONFLICT,
        ),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response(),
    }
}
