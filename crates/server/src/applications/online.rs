//! The online channel's pages (smartphone and PC, one responsive flow): step 1
//! takes the form ID (typed, or from the QR code's URL), the name, an e-mail
//! address and a CAPTCHA answer, and e-mails a one-time link; step 2, behind the
//! link, takes the photo (from storage or the phone's camera), the birth date and
//! the two choices; step 3 confirms with the receipt number. The rules are the
//! service's (`maina_service::applications::online`).

use super::upload::Upload;
use crate::http::{ClientAddress, Page};
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maina_service::applications::online::{
    CaptchaAnswer, OnlineCompletion, OnlineRefusal, OnlineStart, Refused,
};
use serde::Deserialize;

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

/// The address residents reach this server at, for the e-mailed link: only the
/// configured `public_url`, never the request's Host header (which anyone can
/// set, to have our e-mail carry a link to their own site).
fn public_url(state: &AppState) -> Option<String> {
    (state.config.public_url)
        .as_deref()
        .map(|url| url.trim_end_matches('/').to_owned())
}

#[derive(Debug, Deserialize, Default)]
pub struct ApplyQuery {
    form: Option<String>,
}

const TEMPLATE: &str = "apply.html";
const TITLE: &str = "apply-title";

/// Step 1's page, with what was typed and what to fix.
fn step_one(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    typed: [&str; 3],
    error: Option<String>,
    sent: bool,
) -> Response {
    let [form_id, name, email] = typed;
    let (question, captcha_token) = state.service.captcha.question();
    let captcha_question = format!("{question} =");
    let context = minijinja::context! {
        step => 1, sent, form_id, name, email, error, captcha_question, captcha_token,
    };
    page.render(state, status, TEMPLATE, TITLE, context)
}

async fn apply_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ApplyQuery>,
) -> Response {
    let form = query.form.unwrap_or_default();
    step_one(&state, &page, StatusCode::OK, [&form, "", ""], None, false)
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
    from: ClientAddress,
    page: Page,
    Form(form): Form<StepOneForm>,
) -> Response {
    let Some(url) = public_url(&state) else {
        tracing::warn!("an online application needs public_url for its e-mailed link; none is set");
        return try_later();
    };
    let start = OnlineStart {
        form_id: &form.form_id,
        name: &form.name,
        email: &form.email,
        captcha: CaptchaAnswer {
            token: &form.captcha_token,
            answer: &form.captcha,
        },
        language: page.lang,
        public_url: &url,
    };
    let m = |id: &str| state.pages.message(page.lang, id);
    let message = match state.service.start_online_application(&start, from.0).await {
        Ok(()) => return step_one(&state, &page, StatusCode::OK, ["", "", ""], None, true),
        Err(OnlineRefusal::Unavailable) => return try_later(),
        Err(OnlineRefusal::CaptchaWrong) => m("apply-captcha-wrong"),
        Err(OnlineRefusal::Name) => format!("{}: 1–100", m("name")),
        Err(OnlineRefusal::Email) => format!("{}: ?", m("apply-email")),
        Err(_) => m("apply-form-unusable"),
    };
    let typed = [form.form_id.as_str(), &form.name, &form.email];
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    step_one(&state, &page, status, typed, Some(message), false)
}

fn try_later() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    token: String,
}

/// Step 2's page.
fn step_two(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    typed: [&str; 2],
    problems: Vec<(String, String)>,
    error: Option<String>,
) -> Response {
    let [token, birth_date] = typed;
    let problems: Vec<minijinja::Value> = problems
        .into_iter()
        .map(|(code, text)| minijinja::context! { code, text })
        .collect();
    let context = minijinja::context! { step => 2, token, birth_date, problems, error };
    page.render(state, status, TEMPLATE, TITLE, context)
}

/// The page in the language the resident chose at step 1 (the link's).
fn in_language(page: &Page, language: &str) -> Page {
    page.with_language(maina_service::i18n::language(language))
}

async fn continue_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ContinueQuery>,
) -> Response {
    match state.service.online_link(&query.token).await {
        Some(link) => {
            let page = in_language(&page, &link.language);
            step_two(
                &state,
                &page,
                StatusCode::OK,
                [&query.token, ""],
                Vec::new(),
                None,
            )
        }
        None => link_unusable(&state, &page),
    }
}

/// The answer to a used, expired or unknown link (410 Gone).
fn link_unusable(state: &AppState, page: &Page) -> Response {
    let error = state.pages.message(page.lang, "apply-link-unusable");
    let context = minijinja::context! { step => 0, error };
    page.render(state, StatusCode::GONE, TEMPLATE, TITLE, context)
}

async fn continue_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    upload: Upload,
) -> Response {
    let token = upload.text("token");
    let birth_text = upload.text("birth_date");
    let mobile = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mobile"));
    let (electronic_certificate, braille) =
        (upload.ticked("certificate"), upload.ticked("braille"));
    let completion = OnlineCompletion {
        token: &token,
        birth_date: &birth_text,
        photo: upload.photo,
        electronic_certificate,
        braille,
        mobile,
    };
    let Refused { language, reason } = match state
        .service
        .complete_online_application(completion)
        .await
    {
        Ok(done) => {
            let page = in_language(&page, done.language);
            let context =
                minijinja::context! { step => 3, receipt => done.receipt, status => done.status };
            return page.render(&state, StatusCode::OK, TEMPLATE, TITLE, context);
        }
        Err(refused) => refused,
    };
    let Some(language) = language else {
        return link_unusable(&state, &page);
    };
    let page = in_language(&page, language);
    let m = |id: &str| state.pages.message(page.lang, id);
    let typed = [token.as_str(), &birth_text];
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    match reason {
        OnlineRefusal::LinkUnusable => (StatusCode::GONE, m("apply-link-unusable")).into_response(),
        OnlineRefusal::BirthDate => {
            let error = format!("{}: YYYY-MM-DD", m("birth-date"));
            step_two(&state, &page, invalid, typed, Vec::new(), Some(error))
        }
        OnlineRefusal::Photo(codes) => {
            let problems = codes
                .into_iter()
                .map(|code| {
                    let text = m(&code);
                    (code, text)
                })
                .collect();
            step_two(&state, &page, invalid, typed, problems, None)
        }
        OnlineRefusal::FormUnusable => {
            let error = Some(m("apply-form-unusable"));
            step_one(
                &state,
                &page,
                StatusCode::CONFLICT,
                ["", "", ""],
                error,
                false,
            )
        }
        _ => try_later(),
    }
}
