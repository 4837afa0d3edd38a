//! The online channel (smartphone and PC, one responsive flow): step 1 takes the
//! form ID (typed, or from the QR code's URL), the name, an e-mail address and a
//! CAPTCHA answer, and e-mails a one-time link (24 hours, single use); step 2, behind
//! the link, takes the photo (from storage or the phone's camera), the birth date and
//! the two choices, checks the photo, and records the application; step 3 confirms it
//! on the page and by e-mail with the receipt number.

use crate::applications::{new_receipt, status_mail};
use crate::pages::{language, same_origin, with_lang_cookie};
use crate::AppState;
use axum::extract::{ConnectInfo, Form, Multipart, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use maina_core::application::{ApplicationStatus, Channel};
use maina_core::officer::Actor;
use maina_core::ApplicationFormId;
use maina_store::{ApplicationDetails, ApplyLink, Mail, NewApplication};
use rand::{Rng, RngCore};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an e-mailed link works.
const LINK_HOURS: i64 = 24;
/// How long a CAPTCHA question may be answered.
const CAPTCHA_SECONDS: u64 = 15 * 60;

/// A CAPTCHA that needs no third party: a small sum, asked in text (readable by
/// screen readers), its answer bound to an expiry by an HMAC under a key made at
/// start-up; each question can be answered once.
#[derive(Debug)]
pub struct Captcha {
    key: [u8; 32],
    answered: Mutex<HashMap<String, Instant>>,
}

impl Default for Captcha {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self {
            key,
            answered: Mutex::new(HashMap::new()),
        }
    }
}

fn now_seconds() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

impl Captcha {
    fn sign(&self, expires: u64, answer: u32, nonce: u64) -> String {
        let mut block = [0u8; 64];
        for (slot, byte) in block.iter_mut().zip(self.key.iter()) {
            *slot = *byte;
        }
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into());
        mac.update(format!("{expires}|{nonce}|{answer}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A new question and its token.
    pub fn question(&self) -> (String, String) {
        let mut rng = rand::rngs::OsRng;
        let (a, b) = (rng.gen_range(2..10u32), rng.gen_range(2..10u32));
        let nonce = rng.next_u64();
        let expires = now_seconds() + CAPTCHA_SECONDS;
        let token = format!("{expires}.{nonce}.{}", self.sign(expires, a + b, nonce));
        (format!("{a} + {b}"), token)
    }

    /// Whether `answer` answers the question of `token` (once).
    pub fn check(&self, token: &str, answer: &str) -> bool {
        let mut parts = token.split('.');
        let (Some(expires), Some(nonce), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (Ok(expires), Ok(nonce), Ok(answer)) = (
            expires.parse::<u64>(),
            nonce.parse::<u64>(),
            answer.trim().parse::<u32>(),
        ) else {
            return false;
        };
        if expires < now_seconds() {
            return false;
        }
        let expected = self.sign(expires, answer, nonce);
        let same = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0;
        if !same {
            return false;
        }
        let Ok(mut answered) = self.answered.lock() else {
            return false;
        };
        let now = Instant::now();
        answered.retain(|_, at| now.duration_since(*at) < Duration::from_secs(CAPTCHA_SECONDS));
        answered.insert(token.to_owned(), now).is_none()
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
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

fn step_one(
    state: &AppState,
    lang: &str,
    form_id: &str,
    name: &str,
    email: &str,
    error: Option<String>,
    sent: bool,
) -> Response {
    let (question, token) = state.captcha.question();
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
        step_one(&state, lang, &form, "", "", None, false),
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

fn refused(mut page: Response, status: StatusCode) -> Response {
    *page.status_mut() = status;
    page
}

async fn apply_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<StepOneForm>,
) -> Response {
    let lang = language(&headers, None);
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    // Step 1 again, with what the resident typed and what to fix.
    let refuse_with = |message: String| {
        refused(
            step_one(
                &state,
                lang,
                &form.form_id,
                &form.name,
                &form.email,
                Some(message),
                false,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let again = |error: &str| refuse_with(state.pages.message(lang, error));
    let audit = |outcome: &'static str| {
        crate::inquiry::audit_public_attempt(
            &state,
            "online application",
            "online",
            outcome,
            peer.ip(),
        )
    };
    if !state.captcha.check(&form.captcha_token, &form.captcha) {
        audit("captcha-failed").await;
        return again("apply-captcha-wrong");
    }
    let name = form.name.trim();
    let email = form.email.trim();
    let field_error = |label: &str, hint: &str| {
        refuse_with(format!("{}: {hint}", state.pages.message(lang, label)))
    };
    if name.is_empty() || name.chars().count() > 100 {
        return field_error("name", "1–100");
    }
    if email.parse::<lettre::Address>().is_err() {
        return field_error("apply-email", "?");
    }
    let Ok(form_id) = form.form_id.parse::<ApplicationFormId>() else {
        audit("bad-form").await;
        return again("apply-form-unusable");
    };
    let usable = match state.store.notice_by_form(&form_id).await {
        Ok(Some(_)) => matches!(state.store.form_in_use(&form_id).await, Ok(false)),
        _ => false,
    };
    if !usable {
        audit("unknown-form").await;
        return again("apply-form-unusable");
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let link = format!(
        "{}/apply/continue?token={token}",
        public_url(&state, &headers)
    );
    let m = |id: &str| state.pages.message(lang, id);
    let mail = Mail {
        to: email.to_owned(),
        subject: m("apply-title"),
        body: format!(
            "{}\n\n{}\n\n{link}\n\n{}\n",
            m("mail-greeting-link"),
            m("apply-step-2"),
            m("mail-footer")
        ),
    };
    let expires = maina_store::now_micros() + LINK_HOURS * 3600 * 1_000_000;
    let details = ApplyLink {
        form_id,
        name: name.to_owned(),
        email: email.to_owned(),
        language: lang.to_owned(),
    };
    if let Err(error) = state
        .store
        .create_apply_link(&token_hash(&token), &details, expires, &mail)
        .await
    {
        tracing::warn!(%error, "could not store an application link");
        return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response();
    }
    step_one(&state, lang, "", "", "", None, true)
}

#[derive(Debug, Deserialize)]
pub struct ContinueQuery {
    token: String,
}

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
    match state.store.apply_link(&token_hash(&query.token)).await {
        Ok(Some(link)) => step_two(&state, &link.language, &query.token, "", Vec::new(), None),
        _ => link_unusable(&state, lang),
    }
}

/// The answer to a used, expired or unknown link (410 Gone).
fn link_unusable(state: &AppState, lang: &str) -> Response {
    refused(
        state.pages.render(
            "apply.html",
            lang,
            minijinja::context! { title => state.pages.message(lang, "apply-title"), step => 0, error => state.pages.message(lang, "apply-link-unusable") },
        ),
        StatusCode::GONE,
    )
}

async fn continue_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = language(&headers, None);
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let (fields, photo) = match crate::applications::read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let token = fields.get("token").cloned().unwrap_or_default();
    let hash = token_hash(&token);
    let link = match state.store.apply_link(&hash).await {
        Ok(Some(link)) => link,
        _ => return link_unusable(&state, lang),
    };
    let lang = if link.language == "ja" { "ja" } else { "en" };
    let birth_text = fields.get("birth_date").cloned().unwrap_or_default();
    let Ok(birth) = NaiveDate::parse_from_str(birth_text.trim(), "%Y-%m-%d") else {
        return refused(
            step_two(
                &state,
                lang,
                &token,
                &birth_text,
                Vec::new(),
                Some(format!(
                    "{}: YYYY-MM-DD",
                    state.pages.message(lang, "birth-date")
                )),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let today = chrono::Local::now().date_naive();
    let check = crate::photo::examine(&photo, today);
    if !check.passed() {
        let problems = check
            .problems
            .iter()
            .map(|p| (p.code().to_owned(), state.pages.message(lang, p.code())))
            .collect();
        return refused(
            step_two(&state, lang, &token, &birth_text, problems, None),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // Single use: the link is spent before the application is recorded, so a replay
    // racing this request finds it used.
    match state.store.use_apply_link(&hash).await {
        Ok(true) => {}
        _ => {
            return (
                StatusCode::GONE,
                state.pages.message(lang, "apply-link-unusable"),
            )
                .into_response()
        }
    }
    let Ok(receipt) = new_receipt() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response();
    };
    let mobile = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mobile"));
    let new = NewApplication {
        form_id: link.form_id,
        receipt,
        channel: if mobile {
            Channel::Smartphone
        } else {
            Channel::Pc
        },
        details: ApplicationDetails {
            name: link.name.clone(),
            birth_date: birth,
            email: Some(link.email.clone()),
            language: lang.to_owned(),
            electronic_certificate: fields.get("certificate").is_some_and(|v| v == "yes"),
            braille: fields.get("braille").is_some_and(|v| v == "yes"),
            receipt: receipt.as_digits(),
        },
        photo: Some(photo),
    };
    let public = Actor::administrator("public", "online application");
    let confirmation = status_mail(&state, &new.details, ApplicationStatus::Received);
    match state.store.submit_application(&new, &public, confirmation).await {
        Ok(record) => state.pages.render(
            "apply.html",
            lang,
            minijinja::context! { title => state.pages.message(lang, "apply-title"), step => 3, receipt => receipt.to_string(), status => record.status.code() },
        ),
        Err(maina_store::StoreError::Duplicate(_)) | Err(maina_store::StoreError::NotFound(_)) => refused(
            step_one(&state, lang, "", "", "", Some(state.pages.message(lang, "apply-form-unusable")), false),
            StatusCode::CONFLICT,
        ),
        Err(error) => {
            tracing::warn!(%error, "could not record an online application");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}

/// The online channel's pages (uploads up to the photo limit plus the form).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apply", get(apply_page).post(apply_submit))
        .route(
            "/apply/continue",
            get(continue_page)
                .post(continue_submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::applications::UPLOAD_LIMIT,
                )),
        )
}
