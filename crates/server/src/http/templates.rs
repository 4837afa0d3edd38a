//! Server-rendered pages: minijinja templates filled with the service's message
//! catalogues, styled with the Digital Agency's design tokens. Plain HTML forms: no
//! JavaScript needed.

use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maina_service::i18n::Messages;
use std::sync::Arc;

/// The templates, compiled once, and the catalogues they speak.
pub struct Pages {
    env: minijinja::Environment<'static>,
    messages: Arc<Messages>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

impl Pages {
    pub fn load(messages: Arc<Messages>) -> Self {
        let mut env = minijinja::Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("home.html", include_str!("../../templates/home.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("console.html", include_str!("../../templates/console.html")),
            (
                "resident.html",
                include_str!("../../templates/resident.html"),
            ),
            (
                "register.html",
                include_str!("../../templates/register.html"),
            ),
            ("status.html", include_str!("../../templates/status.html")),
            ("apply.html", include_str!("../../templates/apply.html")),
            ("booth.html", include_str!("../../templates/booth.html")),
            ("stuck.html", include_str!("../../templates/stuck.html")),
            ("choices.html", include_str!("../../templates/choices.html")),
            ("counter.html", include_str!("../../templates/counter.html")),
            ("pinpad.html", include_str!("../../templates/pinpad.html")),
            (
                "mail_entry.html",
                include_str!("../../templates/mail_entry.html"),
            ),
            ("book.html", include_str!("../../templates/book.html")),
            ("card.html", include_str!("../../templates/card.html")),
            ("office.html", include_str!("../../templates/office.html")),
            ("reissue.html", include_str!("../../templates/reissue.html")),
            (
                "day_list.html",
                include_str!("../../templates/day_list.html"),
            ),
            ("lost.html", include_str!("../../templates/lost.html")),
            ("suspend.html", include_str!("../../templates/suspend.html")),
            // The resident portal (issue 14).
            ("portal.html", include_str!("../../templates/portal.html")),
            (
                "portal_access.html",
                include_str!("../../templates/portal_access.html"),
            ),
            (
                "portal_entries.html",
                include_str!("../../templates/portal_entries.html"),
            ),
            (
                "oidc_signin.html",
                include_str!("../../templates/oidc_signin.html"),
            ),
            (
                "oidc_consent.html",
                include_str!("../../templates/oidc_consent.html"),
            ),
            (
                "oidc_parties.html",
                include_str!("../../templates/oidc_parties.html"),
            ),
        ] {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "template does not compile");
            }
        }
        Self { env, messages }
    }

    /// A message in `lang`, or its id when missing.
    pub fn message(&self, lang: &str, id: &str) -> String {
        self.messages.message(lang, id)
    }

    /// Renders `template` in `lang`; pages show personal data, so never cached.
    pub fn render(&self, template: &str, lang: &str, context: minijinja::Value) -> Response {
        let base = minijinja::context! {
            lang => lang,
            m => self.messages.catalogue(lang),
        };
        let merged = minijinja::context! { ..base, ..context };
        match self
            .env
            .get_template(template)
            .and_then(|t| t.render(merged))
        {
            Ok(html) => {
                let mut response = Html(html).into_response();
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

    /// [`Pages::render`] answered with `status`.
    pub fn render_status(
        &self,
        status: StatusCode,
        template: &str,
        lang: &str,
        context: minijinja::Value,
    ) -> Response {
        let mut page = self.render(template, lang, context);
        if page.status().is_success() {
            *page.status_mut() = status;
        }
        page
    }
}
