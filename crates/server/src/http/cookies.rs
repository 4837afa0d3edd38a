//! The one cookie reader (the session, the language and the booth's key cookies).

use axum::http::header::COOKIE;
use axum::http::HeaderMap;

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; maina_lang=ja"));
        headers.append(COOKIE, HeaderValue::from_static("maina_session=t0k=en"));
        assert_eq!(cookie(&headers, "maina_lang").as_deref(), Some("ja"));
        assert_eq!(cookie(&headers, "maina_session").as_deref(), Some("t0k=en"));
        assert_eq!(cookie(&headers, "lang"), None);
    }
}
