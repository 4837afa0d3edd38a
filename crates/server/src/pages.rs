//! Server-rendered pages: the officer console, in English and Japanese (Fluent
//! message catalogues), styled with the Digital Agency's design tokens. Plain HTML
//! forms: no JavaScript needed.

use crate::api::{HistoryEntryResponse, ResidentResponse};
use crate::auth::{Authenticated, SESSION_COOKIE};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, ORIGIN, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use fluent_bundle::{FluentBundle, FluentResource};
use maina_core::officer::Permission;
use maina_core::person::{parse_date, Address, NameChange};
use maina_core::resident::{RegistrationForm, ResidentEvent};
use maina_core::ResidentCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The languages of every page.
pub const LANGUAGES: [&str; 2] = ["en", "ja"];
const LANG_COOKIE: &str = "maina_lang";

/// Templates and messages, loaded once.
pub struct Pages {
    env: minijinja::Environment<'static>,
    messages: HashMap<&'static str, HashMap<String, String>>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

fn catalogue(lang: &str, source: &str) -> HashMap<String, String> {
    let mut messages = HashMap::new();
    let resource = match FluentResource::try_new(source.to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(?errors, lang, "message catalogue has errors");
            resource
        }
    };
    let ids: Vec<String> = resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_string()),
            _ => None,
        })
        .collect();
    let Ok(langid) = lang.parse::<unic_langid::LanguageIdentifier>() else {
        return messages;
    };
    let mut bundle = FluentBundle::new(vec![langid]);
    bundle.set_use_isolating(false);
    if bundle.add_resource(resource).is_err() {
        return messages;
    }
    for id in ids {
        if let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) {
            let mut errors = vec![];
            let text = bundle
                .format_pattern(pattern, None, &mut errors)
                .to_string();
            messages.insert(id, text);
        }
    }
    messages
}

impl Pages {
    pub fn load() -> Self {
        let mut env = minijinja::Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("console.html", include_str!("../templates/console.html")),
            ("resident.html", include_str!("../templates/resident.html")),
            ("register.html", include_str!("../templates/register.html")),
            ("status.html", include_str!("../templates/status.html")),
            ("apply.html", include_str!("../templates/apply.html")),
            ("booth.html", include_str!("../templates/booth.html")),
            ("stuck.html", include_str!("../templates/stuck.html")),
            (
                "mail_entry.html",
                include_str!("../templates/mail_entry.html"),
            ),
        ] {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "template does not compile");
            }
        }
        let mut messages = HashMap::new();
        messages.insert("en", catalogue("en", include_str!("../locales/en.ftl")));
        messages.insert("ja", catalogue("ja", include_str!("../locales/ja.ftl")));
        Self { env, messages }
    }

    /// A message in `lang`, or its id when missing (visible, never a panic).
    pub fn message(&self, lang: &str, id: &str) -> String {
        self.messages
            .get(lang)
            .and_then(|m| m.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub(crate) fn render(&self, template: &str, lang: &str, context: minijinja::Value) -> Response {
        let base = minijinja::context! {
            lang => lang,
            m => self.messages.get(lang).cloned().unwrap_or_default(),
        };
        let merged = minijinja::context! { ..base, ..context };
        match self
            .env
            .get_template(template)
            .and_then(|t| t.render(merged))
        {
            Ok(html) => {
                let mut response = Html(html).into_response();
                // Pages show personal data: never cache them.
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(error) => {
                tracing::error!(%error, template, "rendering failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed").into_response()
            }
        }
    }
}

/// The page language: `?lang=`, then the cookie, then the browser's preference.
pub(crate) fn language(headers: &HeaderMap, query: Option<&str>) -> &'static str {
    let pick = |tag: &str| {
        LANGUAGES
            .into_iter()
            .find(|l| tag.trim().to_ascii_lowercase().starts_with(l))
    };
    if let Some(lang) = query.and_then(pick) {
        return lang;
    }
    let cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .and_then(|(_, value)| pick(value));
    if let Some(lang) = cookie {
        return lang;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|tag| pick(tag.split(';').next().unwrap_or("")))
        })
        .unwrap_or("en")
}

#[derive(Debug, Deserialize, Default)]
pub struct LangQuery {
    lang: Option<String>,
    notice: Option<String>,
}

/// Adds the language cookie when the language was chosen with `?lang=`.
pub(crate) fn with_lang_cookie(mut response: Response, chosen: Option<&str>) -> Response {
    if let Some(lang) = chosen.and_then(|l| LANGUAGES.into_iter().find(|x| *x == l)) {
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"
        )) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The officer behind the session cookie, or a redirect to the log-in page.
async fn officer(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, Response> {
    let mut request = axum::http::Request::new(());
    *request.headers_mut() = headers.clone();
    let (mut parts, ()) = request.into_parts();
    match <Authenticated as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, state,
    )
    .await
    {
        Ok(mut auth) => {
            auth.purpose = "console".into();
            Ok(auth)
        }
        Err(_) => Err(Redirect::to("/login").into_response()),
    }
}

/// Form posts must come from our own pages (the cookie is SameSite=Strict too).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    match (
        headers.get(ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        (None, _) => true,
        (Some(_), None) => false,
    }
}

fn officer_context(auth: &Authenticated) -> minijinja::Value {
    minijinja::context! {
        username => auth.officer.username.clone(),
        role => auth.officer.role.as_str(),
        municipality => auth.officer.municipality.as_digits(),
    }
}

fn error_message(pages: &Pages, lang: &str, error: &ApiError) -> String {
    match error.body.code {
        "not_found" => pages.message(lang, "not-found"),
        "forbidden" => pages.message(lang, "forbidden"),
        _ => error.body.message.clone(),
    }
}

/// The console page with an error in the page's language and the error's status.
fn console_error(state: &AppState, lang: &str, auth: &Authenticated, error: &ApiError) -> Response {
    let mut page = state.pages.render(
        "console.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "console"),
            officer => officer_context(auth),
            query => minijinja::Value::from_serialize(SearchForm::default()),
            error => error_message(&state.pages, lang, error),
        },
    );
    *page.status_mut() = error.status;
    page
}

async fn static_tokens() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/dads/tokens.css"),
    )
}

async fn static_console() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/console.css"),
    )
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
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    match crate::log_in(&state, peer.ip(), &form.username, &form.password).await {
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
            let message = match error.body.code {
                "account_locked" => state.pages.message(lang, "login-locked"),
                "too_many_attempts" => state.pages.message(lang, "login-throttled"),
                _ => state.pages.message(lang, "login-failed"),
            };
            let mut page = state.pages.render(
                "login.html",
                lang,
                minijinja::context! { title => state.pages.message(lang, "login-title"), error => message },
            );
            *page.status_mut() = error.status;
            page
        }
    }
}

async fn logout_submit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(auth) = officer(&state, &headers).await {
        state.sessions.forget(&auth.token);
        let _ = state.store.logout(&auth.token).await;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_static("maina_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[derive(Debug, Deserialize, Default, Serialize)]
pub struct SearchForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

async fn console(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SearchForm>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let mut error = None;
    let mut results: Vec<ResidentResponse> = vec![];
    let mut searched = false;
    if !query.code.trim().is_empty() {
        searched = true;
        match query.code.parse::<ResidentCode>() {
            Ok(code) => {
                return Redirect::to(&format!("/console/residents/{}", code.as_digits()))
                    .into_response()
            }
            Err(e) => {
                error = Some(format!(
                    "{}: {e}",
                    state.pages.message(lang, "resident-code")
                ))
            }
        }
    } else if !query.birth_date.trim().is_empty() {
        searched = true;
        match parse_date("birth_date", &query.birth_date) {
            Ok(birth_date) if auth.officer.role.allows(Permission::ReadResident) => {
                match state
                    .store
                    .search(&auth.officer.municipality, birth_date, &query.name, 50)
                    .await
                {
                    Ok(found) => {
                        for view in &found {
                            let _ = state
                                .store
                                .audit(&auth.actor(), "search-hit", Some(view.resident_key))
                                .await;
                        }
                        results = found.iter().map(ResidentResponse::from).collect();
                    }
                    Err(e) => error = Some(error_message(&state.pages, lang, &ApiError::from(e))),
                }
            }
            Ok(_) => error = Some(state.pages.message(lang, "forbidden")),
            Err(e) => error = Some(e.to_string()),
        }
    }
    let page = state.pages.render(
        "console.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "console"),
            officer => officer_context(&auth),
            query => minijinja::Value::from_serialize(&query),
            results => minijinja::Value::from_serialize(&results),
            searched => searched,
            error => error,
        },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    my_number: String,
    purpose: String,
}

async fn lookup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LookupForm>,
) -> Response {
    let lang = language(&headers, None);
    let mut auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    auth.purpose = form
        .purpose
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let outcome = async {
        let view = crate::api::readable_by_number(&state, &auth, &form.my_number).await?;
        Ok::<_, ApiError>(view.resident_code.as_digits())
    }
    .await;
    match outcome {
        Ok(code) => Redirect::to(&format!("/console/residents/{code}")).into_response(),
        Err(error) => console_error(&state, lang, &auth, &error),
    }
}

async fn resident_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let outcome = async {
        let view =
            crate::api::authorized_resident(&state, &auth, &code, Permission::ReadResident).await?;
        state
            .store
            .audit(&auth.actor(), "read", Some(view.resident_key))
            .await?;
        let history: Vec<HistoryEntryResponse> = state
            .store
            .history(view.resident_key)
            .await?
            .into_iter()
            .map(|e| HistoryEntryResponse {
                version: e.version,
                kind: e.kind,
                date: e.date.to_string(),
                recorded_at: e.recorded_at,
                actor: e.actor,
            })
            .collect();
        Ok::<_, ApiError>((ResidentResponse::from(&view), history))
    }
    .await;
    let page = match outcome {
        Ok((resident, history)) => {
            let notice = query
                .notice
                .as_deref()
                .filter(|n| ["saved", "registered"].contains(n))
                .map(|n| state.pages.message(lang, n));
            state.pages.render(
                "resident.html",
                lang,
                minijinja::context! {
                    title => resident.name.clone(),
                    officer => officer_context(&auth),
                    r => minijinja::Value::from_serialize(&resident),
                    history => minijinja::Value::from_serialize(&history),
                    notice => notice,
                },
            )
        }
        Err(error) => console_error(&state, lang, &auth, &error),
    };
    with_lang_cookie(page, query.lang.as_deref())
}

/// Applies a change from a console form: the same domain path as the API.
async fn change_submit(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
    fields: &HashMap<String, String>,
    event: impl FnOnce(
        &maina_store::ResidentView,
        &HashMap<String, String>,
    ) -> Result<ResidentEvent, ApiError>,
) -> Response {
    let lang = language(headers, None);
    let auth = match officer(state, headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if !same_origin(headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let outcome = async {
        let view =
            crate::api::authorized_resident(state, &auth, code, Permission::ChangeResident).await?;
        let event = event(&view, fields)?;
        state
            .store
            .apply(view.resident_key, event, &auth.actor())
            .await?;
        Ok::<_, ApiError>(view.resident_code.as_digits())
    }
    .await;
    match outcome {
        Ok(code) => {
            Redirect::to(&format!("/console/residents/{code}?notice=saved")).into_response()
        }
        Err(error) => console_error(state, lang, &auth, &error),
    }
}

fn form_date(fields: &HashMap<String, String>) -> Result<chrono::NaiveDate, ApiError> {
    match fields
        .get("date")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        Some(date) => Ok(parse_date("date", date)?),
        None => Ok(chrono::Local::now().date_naive()),
    }
}

fn form_field<'a>(
    fields: &'a HashMap<String, String>,
    name: &'static str,
) -> Result<&'a str, ApiError> {
    fields
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| maina_core::person::FieldError::new(name, "is required").into())
}

async fn address_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    change_submit(&state, &headers, &code, &fields, |_, f| {
        Ok(ResidentEvent::AddressChanged {
            date: form_date(f)?,
            address: Address::parse(form_field(f, "address")?)?,
        })
    })
    .await
}

async fn move_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    change_submit(&state, &headers, &code, &fields, |_, f| {
        let municipality =
            form_field(f, "municipality")?
                .parse()
                .map_err(|e: maina_core::IdError| {
                    maina_core::person::FieldError::new("municipality", e.to_string())
                })?;
        Ok(ResidentEvent::Moved {
            date: form_date(f)?,
            municipality,
            address: Address::parse(form_field(f, "address")?)?,
        })
    })
    .await
}

async fn rename_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    change_submit(&state, &headers, &code, &fields, |view, f| {
        // The form sends every part of the resident's script; the shared rule
        // checks them like the API's and the command line's.
        let part = |name: &str| f.get(name).cloned();
        let name = view.record.person.name.changed(&NameChange {
            family_name: part("family_name"),
            given_name: part("given_name"),
            family_kana: part("family_kana"),
            given_kana: part("given_kana"),
            alphabet_name: part("alphabet_name"),
            alias: part("alias"),
            name_kana: None,
        })?;
        Ok(ResidentEvent::Renamed {
            date: form_date(f)?,
            name,
        })
    })
    .await
}

async fn departure_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    change_submit(&state, &headers, &code, &fields, |_, f| {
        Ok(ResidentEvent::Departed {
            date: form_date(f)?,
        })
    })
    .await
}

async fn register_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let page = state.pages.render(
        "register.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "register"),
            officer => officer_context(&auth),
            form => minijinja::Value::from_serialize(HashMap::<String, String>::new()),
        },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn register_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let lang = language(&headers, None);
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let get = |name: &str| fields.get(name).cloned();
    let form = RegistrationForm {
        municipality: Some(auth.officer.municipality.as_digits()),
        reason: get("reason"),
        family_name: get("family_name"),
        given_name: get("given_name"),
        family_kana: get("family_kana"),
        given_kana: get("given_kana"),
        birth_date: get("birth_date"),
        sex: get("sex"),
        address: get("address"),
        ..Default::default()
    };
    let outcome = async {
        if !auth.officer.role.allows(Permission::RegisterResident) {
            return Err(ApiError::forbidden());
        }
        let registration = form.parse(chrono::Local::now().date_naive())?;
        let registered = state.store.register(registration, &auth.actor()).await?;
        Ok::<_, ApiError>(registered.resident_code.as_digits())
    }
    .await;
    match outcome {
        Ok(code) => {
            Redirect::to(&format!("/console/residents/{code}?notice=registered")).into_response()
        }
        Err(error) => {
            let mut page = state.pages.render(
                "register.html",
                lang,
                minijinja::context! {
                    title => state.pages.message(lang, "register"),
                    officer => officer_context(&auth),
                    form => minijinja::Value::from_serialize(&fields),
                    error => error_message(&state.pages, lang, &error),
                },
            );
            *page.status_mut() = error.status;
            page
        }
    }
}

/// The pages' routes.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    number: String,
    birth_date: String,
}

async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let page = state.pages.render(
        "status.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "status-title"), number => "", birth_date => "" },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn status_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<StatusForm>,
) -> Response {
    let lang = language(&headers, None);
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let title = state.pages.message(lang, "status-title");
    let outcome = crate::inquiry::inquire(&state, &form.number, &form.birth_date, peer.ip()).await;
    let (status, context) = match outcome {
        Ok(answer) => {
            let code = answer.status.code();
            (
                StatusCode::OK,
                minijinja::context! {
                    title, number => form.number, birth_date => form.birth_date,
                    answer => minijinja::context! {
                        code,
                        label => state.pages.message(lang, &format!("status-{code}")),
                        next => state.pages.message(lang, &format!("status-next-{code}")),
                        since => crate::dates::for_language(answer.since, lang),
                    },
                },
            )
        }
        Err(error) => {
            let message = match error.body.code {
                "too_many_attempts" => state.pages.message(lang, "status-wait"),
                "no_match" => state.pages.message(lang, "status-no-match"),
                _ => error.body.message.clone(),
            };
            (
                error.status,
                minijinja::context! { title, number => form.number, birth_date => form.birth_date, error => message },
            )
        }
    };
    let mut page = state.pages.render("status.html", lang, context);
    *page.status_mut() = status;
    page
}

/// The back office's page for mailed applications.
async fn mail_entry_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let page = state.pages.render(
        "mail_entry.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "mail-entry-title"), officer => officer_context(&auth) },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn mail_entry_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: axum::extract::Multipart,
) -> Response {
    use base64::Engine as _;
    let lang = language(&headers, None);
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let (fields, photo) = match crate::applications::read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let checked = |name: &str| get(name) == "yes";
    let request = crate::applications::MailApplicationRequest {
        form_id: get("form_id"),
        birth_date: get("birth_date"),
        name: get("name"),
        photo_base64: (!photo.is_empty())
            .then(|| base64::engine::general_purpose::STANDARD.encode(&photo)),
        photo_attached: checked("photo_attached"),
        form_complete: checked("form_complete"),
        nothing_else_enclosed: checked("nothing_else"),
        electronic_certificate: checked("certificate"),
        braille: checked("braille"),
    };
    let title = state.pages.message(lang, "mail-entry-title");
    match crate::applications::mail_submit(&state, &auth, request).await {
        Ok(done) => {
            let problems: Vec<String> = done
                .photo_problems
                .iter()
                .map(|p| state.pages.message(lang, p))
                .collect();
            let result = minijinja::context! {
                receipt => done.receipt, status => done.status.clone(),
                label => state.pages.message(lang, &format!("status-{}", done.status)), problems,
            };
            state.pages.render(
                "mail_entry.html",
                lang,
                minijinja::context! { title, officer => officer_context(&auth), result },
            )
        }
        Err(error) => {
            let mut page = state.pages.render(
                "mail_entry.html",
                lang,
                minijinja::context! { title, officer => officer_context(&auth), error => error.body.message.clone() },
            );
            *page.status_mut() = error.status;
            page
        }
    }
}

/// The supervisor's page of applications stuck in card issuance.
async fn stuck_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let actor = auth.actor();
    if !actor.may(Permission::ReviewApplication, None) {
        return (StatusCode::FORBIDDEN, state.pages.message(lang, "error")).into_response();
    }
    let before = maina_store::now_micros()
        - maina_core::application::STUCK_AFTER_DAYS * 24 * 3600 * 1_000_000;
    let rows: Vec<minijinja::Value> = match state.store.stuck_applications(before).await {
        Ok(list) => list
            .into_iter()
            .filter(|r| {
                r.municipality
                    .parse::<maina_core::MunicipalityCode>()
                    .is_ok_and(|m| actor.may(Permission::ReviewApplication, Some(&m)))
            })
            .map(|r| {
                minijinja::context! {
                    receipt => r.details.receipt,
                    channel => r.channel.code(),
                    since => crate::dates::japan_date(r.status_since).map(|date| date.to_string()).unwrap_or_default(),
                    email => if r.details.email.is_some() { state.pages.message(lang, "yes") } else { state.pages.message(lang, "no") },
                }
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "stuck applications could not be read");
            Vec::new()
        }
    };
    let page = state.pages.render(
        "stuck.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "stuck-title"), officer => officer_context(&auth), rows },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/applications/stuck", get(stuck_page))
        .route(
            "/console/applications/mail",
            get(mail_entry_page).post(mail_entry_submit).layer(
                axum::extract::DefaultBodyLimit::max(crate::applications::UPLOAD_LIMIT),
            ),
        )
        .route("/status", get(status_page).post(status_submit))
        .route("/static/tokens.css", get(static_tokens))
        .route("/static/console.css", get(static_console))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/console", get(console))
        .route("/console/lookup", post(lookup))
        .route(
            "/console/register",
            get(register_page).post(register_submit),
        )
        .route("/console/residents/{code}", get(resident_page))
        .route("/console/residents/{code}/address", post(address_submit))
        .route("/console/residents/{code}/move", post(move_submit))
        .route("/console/residents/{code}/rename", post(rename_submit))
        .route(
            "/console/residents/{code}/departure",
            post(departure_submit),
        )
}

/// Shared, immutable page machinery.
pub fn shared() -> Arc<Pages> {
    Arc::new(Pages::load())
}
