//! The page language: `?lang=`, then the language cookie, then the browser's
//! preference; a `?lang=` choice is remembered in the cookie.

use axum::http::header::{ACCEPT_LANGUAGE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use maina_service::i18n::LANGUAGES;

const LANG_COOKIE: &str = "maina_lang";

/// The page language.
pub fn language(headers: &HeaderMap, query: Option<&str>) -> &'static str {
    let pick = |tag: &str| {
        LANGUAGES
            .into_iter()
            .find(|l| tag.trim().to_ascii_lowercase().starts_with(l))
    };
    if let Some(lang) = query.and_then(pick) {
        return lang;
    }
    if let Some(lang) = super::cookies::cookie(headers, LANG_COOKIE).and_then(|v| pick(&v)) {
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

/// Adds the language cookie when the language was chosen with `?lang=`.
pub fn with_lang_cookie(mut response: Response, chosen: Option<&str>) -> Response {
    if let Some(lang) = chosen.and_then(|l| LANGUAGES.into_iter().find(|x| *x == l)) {
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000"
        )) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
