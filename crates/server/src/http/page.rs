//! What every page handler starts with, as extractors: the page's language (and
//! whether `?lang=` chose it, to remember it in a cookie) and, on console pages,
//! the officer behind the session cookie (or a redirect to the log-in page). A
//! form post from another origin never gets this far: the layer in `csrf.rs`
//! refuses it for every page router.

use super::extract::Authenticated;
use super::i18n::{language, with_lang_cookie};
use super::officer::officer_context;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maina_service::i18n::LANGUAGES;

/// A public page's request.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: &'static str,
    /// The language `?lang=` chose, if it did.
    chosen: Option<&'static str>,
    /// The officer a console page shows in its header.
    officer: Option<minijinja::Value>,
}

impl Page {
    /// Renders `template` with `title` (a message id) and `context`, answered
    /// with `status`; a language chosen with `?lang=` is remembered.
    pub fn render(
        &self,
        state: &AppState,
        status: StatusCode,
        template: &str,
        title: &str,
        context: minijinja::Value,
    ) -> Response {
        // The context's own title, if it has one, wins (left to right).
        let title = state.pages.message(self.lang, title);
        let officer = self.officer.clone();
        let context = minijinja::context! { ..context, ..minijinja::context! { title, officer } };
        let page = state
            .pages
            .render_status(status, template, self.lang, context);
        with_lang_cookie(page, self.chosen)
    }

    /// The same page in another language (one the resident chose earlier).
    pub fn with_language(&self, lang: &'static str) -> Self {
        Self {
            lang,
            ..self.clone()
        }
    }

    /// A plain-text answer in this page's language.
    pub fn text(&self, state: &AppState, status: StatusCode, message: &str) -> Response {
        (status, state.pages.message(self.lang, message)).into_response()
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        let asked = parts.uri.query().and_then(|query| {
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find_map(|(key, value)| (key == "lang").then_some(value))
        });
        Ok(Self {
            lang: language(&parts.headers, asked),
            chosen: asked.and_then(|asked| LANGUAGES.into_iter().find(|l| *l == asked)),
            officer: None,
        })
    }
}

/// A console page's request: a [`Page`] (rendered with the officer in its header)
/// and the officer behind it.
#[derive(Debug, Clone)]
pub struct ConsolePage {
    pub page: Page,
    pub auth: Authenticated,
}

impl std::ops::Deref for ConsolePage {
    type Target = Page;
    fn deref(&self) -> &Page {
        &self.page
    }
}

impl FromRequestParts<AppState> for ConsolePage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let mut page = Page::from_request_parts(parts, state).await?;
        match Authenticated::from_cookie(state, &parts.headers).await {
            Ok(auth) => {
                page.officer = Some(officer_context(&auth));
                Ok(Self { page, auth })
            }
            Err(_) => Err(Redirect::to("/login").into_response()),
        }
    }
}
