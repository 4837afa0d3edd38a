//! Extractors: a JSON body whose refusals name the field (without echoing any
//! value the client sent), and the officer behind a request.

use super::error::ApiError;
use crate::config::TrustedProxy;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use maina_service::{Actor, Officer};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use utoipa::openapi::{RefOr, Schema};
use utoipa::PartialSchema;

/// A JSON body. A value of the wrong type or an unknown field is refused with its
/// path (from `serde_path_to_error`, not from serde's English text); a missing
/// field is named from the type's OpenAPI schema (its `required` list).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + PartialSchema, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the body is too large",
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        rejection.body_text(),
                    )
                }
            })?;
        parse_body::<T>(&bytes).map(Body)
    }
}

/// `application/json` or a `+json` type, as axum's `Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

/// Deserialises `bytes`, or the refusal naming the field at fault.
pub fn parse_body<T: DeserializeOwned + PartialSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body is not well-formed JSON",
        )
    };
    // The common case costs no more than a plain parse; only a refused body is
    // parsed again, tracking the path, to name the field at fault.
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => {
            // Trailing characters after the value make the body malformed.
            return deserializer.end().map(|()| value).map_err(|_| malformed());
        }
        Err(error) => error,
    };
    if !matches!(error.inner().classify(), Category::Data) {
        return Err(malformed());
    }
    let path = error.path().to_string();
    let field = if path == "." {
        missing_field::<T>(bytes).unwrap_or_else(|| "body".to_owned())
    } else {
        path
    };
    Err(ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
        &field,
        format!("{field}: missing, unknown, or of the wrong type or value"),
    ))
}

/// The first field the schema requires that the body's top-level object lacks.
fn missing_field<T: PartialSchema>(bytes: &[u8]) -> Option<String> {
    let serde_json::Value::Object(body) = serde_json::from_slice(bytes).ok()? else {
        return None;
    };
    match T::schema() {
        RefOr::T(Schema::Object(object)) => object
            .required
            .iter()
            .find(|name| !body.contains_key(name.as_str()))
            .cloned(),
        _ => None,
    }
}

/// The JSON API's answer.
pub type Reply<T> = Result<Json<T>, ApiError>;

/// A query string, refused in the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// An officer's request about one record: the officer, and the code in the path.
pub struct OnRecord {
    pub auth: Authenticated,
    /// The path's `{code}` or `{receipt}`, as given.
    pub id: String,
}

impl OnRecord {
    pub fn actor(&self) -> Actor {
        self.auth.actor()
    }
}

impl FromRequestParts<AppState> for OnRecord {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    rejection.body_text(),
                )
            })?;
        Ok(Self { auth, id })
    }
}

/// The address of the client that sent the request (the throttles count per
/// address; audit records of the public's attempts name it): the TCP peer, or,
/// when the peer is one of the configured `trusted_proxies`, the right-most
/// address in `X-Forwarded-For` that is not itself a trusted proxy. A header from
/// any other peer is ignored: anyone can write one.
pub struct ClientAddress(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) =
            ConnectInfo::<std::net::SocketAddr>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        rejection.body_text(),
                    )
                })?;
        Ok(Self(client_address(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The client behind a request from `peer` (see [`ClientAddress`]). Walking the
/// forwarded addresses from the right, each trusted proxy vouches for the next
/// address to its left; the first address that is no trusted proxy is the
/// client. Should a hop be unreadable, the last trusted proxy stands for the
/// client (its visitors then share one count, which errs on the safe side).
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[TrustedProxy],
) -> std::net::IpAddr {
    let is_trusted = |address: std::net::IpAddr| trusted.iter().any(|p| p.contains(address));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in forwarded.iter().rev() {
        let Some(address) = forwarded_address(hop) else {
            break;
        };
        client = address;
        if !is_trusted(address) {
            break;
        }
    }
    client
}

/// One hop of `X-Forwarded-For`: an address, possibly with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`) or in brackets.
fn forwarded_address(hop: &str) -> Option<std::net::IpAddr> {
    let hop = hop.trim();
    hop.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
        .map(|address: std::net::IpAddr| address.to_canonical())
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "maina_session";

/// An officer with a live session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub officer: Officer,
    pub token: String,
    /// Why the officer reads or changes data (the `X-Purpose` header, or the form's
    /// purpose field on pages); recorded in the audit trail.
    pub purpose: String,
}

impl Authenticated {
    pub fn actor(&self) -> Actor {
        self.officer.actor(&self.purpose)
    }
}

/// A purpose as given: control characters dropped, at most 200 characters.
pub fn clean_purpose(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The bearer token of an API request, if any. The API never reads the console's
/// session cookie: a browser attaches a cookie to any site's request, never an
/// `Authorization` header, so a bearer-only API cannot be forged cross-site.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// The console's session cookie, if any (pages only).
pub fn session_cookie_token(headers: &HeaderMap) -> Option<String> {
    super::cookies::cookie(headers, SESSION_COOKIE)
}

impl Authenticated {
    /// The officer behind the request's bearer token, if the session is live.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let token = bearer_token(headers).ok_or_else(ApiError::unauthenticated)?;
        let purpose = headers
            .get("x-purpose")
            .and_then(|v| v.to_str().ok())
            .map(clean_purpose)
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "api".to_string());
        Self::from_token(state, token, purpose).await
    }

    /// The officer behind a console page's session cookie, if the session is live.
    pub async fn from_cookie(state: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let token = session_cookie_token(headers).ok_or_else(ApiError::unauthenticated)?;
        Self::from_token(state, token, "console".to_string()).await
    }

    async fn from_token(
        state: &AppState,
        token: String,
        purpose: String,
    ) -> Result<Self, ApiError> {
        let officer = state.service.session(&token).await?;
        Ok(Self {
            officer,
            token,
            purpose,
        })
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::from_headers(state, &parts.headers).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use maina_proto::{LoginRequest, MailApplicationRequest};

    fn refused<T: DeserializeOwned + PartialSchema>(body: &str) -> ApiError {
        match parse_body::<T>(body.as_bytes()) {
            Ok(_) => panic!("accepted {body}"),
            Err(error) => error,
        }
    }

    #[test]
    fn names_the_field_without_echoing_values() {
        let unknown = refused::<LoginRequest>(r#"{"username":"a","password":"b","pin":"1234"}"#);
        assert_eq!(unknown.body.field.as_deref(), Some("pin"));
        assert_eq!(unknown.body.code, "invalid_json");
        let wrong = refused::<LoginRequest>(r#"{"username":621498320257,"password":"b"}"#);
        assert_eq!(wrong.body.field.as_deref(), Some("username"));
        assert!(!wrong.body.message.contains("621498320257"));
        let missing = refused::<LoginRequest>(r#"{"username":"a"}"#);
        assert_eq!(missing.body.field.as_deref(), Some("password"));
        let missing = refused::<MailApplicationRequest>(r#"{"form_id":"1"}"#);
        assert_eq!(missing.body.field.as_deref(), Some("birth_date"));
        let syntax = refused::<LoginRequest>(r#"{"username": "#);
        assert_eq!(syntax.body.code, "malformed_json");
        let trailing = refused::<LoginRequest>(r#"{"username":"a","password":"b"} x"#);
        assert_eq!(trailing.body.code, "malformed_json");
        let not_object = refused::<LoginRequest>(r#""621498320257""#);
        assert_eq!(not_object.body.field.as_deref(), Some("body"));
        assert!(!not_object.body.message.contains("621498320257"));
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let trusted: Vec<TrustedProxy> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let forged = headers(&["203.0.113.5"]);
        // From an untrusted peer, or with no proxies configured: the peer.
        assert_eq!(
            client_address(ip("198.51.100.1"), &forged, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &forged, &[]),
            ip("127.0.0.1")
        );
        // From a trusted peer: the right-most address that is no trusted proxy,
        // whatever the client put further left.
        assert_eq!(
            client_address(ip("127.0.0.1"), &forged, &trusted),
            ip("203.0.113.5")
        );
        let chain = headers(&["1.1.1.1, 203.0.113.5", "10.1.2.3"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &chain, &trusted),
            ip("203.0.113.5")
        );
        let ported = headers(&["[2001:db8::7]:4711"]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &ported, &trusted),
            ip("2001:db8::7")
        );
        // An unreadable hop: the last trusted proxy stands for the client.
        let garbage = headers(&["203.0.113.5, nonsense, 10.9.9.9"]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &garbage, &trusted),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }
}
