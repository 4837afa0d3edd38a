//! The authorization request (OIDC Core 3.1.2): its checks, in the order the spec
//! asks — an unknown client or a redirect URI not registered exactly is shown on
//! the provider's own page and never redirected; every later refusal goes back to
//! the party with its error code and `state` —, the one-time challenge the card
//! signs (only its SHA-256 kept, 5 minutes), the page's polling, the consent and
//! the code sent back to the party.

use super::{b64url, oauth, SharedFacts, CHALLENGE_SECONDS, CODE_SECONDS};
use crate::{Result, Service, ServiceError};
use maina_store::{AuthRequest, NewAuthRequest, RelyingParty, RequestStatus};
use rand::RngCore;

/// The query of `/oidc/authorize`, as sent.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
}

/// A refused authorization step: shown on the provider's page (an unknown client
/// or redirect URI: never redirected), or sent back to the party.
#[derive(Debug, Clone)]
pub enum AuthorizeRefusal {
    Page(ServiceError),
    Redirect(String),
}

impl From<ServiceError> for AuthorizeRefusal {
    fn from(error: ServiceError) -> Self {
        Self::Page(error)
    }
}

/// What the provider's page shows for a pending request.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub id: String,
    /// The challenge as shown (groups of four).
    pub challenge: String,
    /// The URL the desktop client takes (the challenge in its fragment).
    pub challenge_url: String,
    pub client_name: String,
    /// `auth` (the user-authentication key, 4-digit PIN) or `sign` (the signature
    /// key, for the facts).
    pub card_key: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Where an answered request goes next.
#[derive(Debug, Clone)]
pub enum ContinueOutcome {
    /// Back to the party with the code.
    Redirect(String),
    /// The consent page: the party's name and, for a facts party, exactly the
    /// facts it will receive.
    Consent {
        client_name: String,
        facts: Option<SharedFacts>,
        /// Where the consent's answer redirects (the page's form-action must allow it).
        redirect_uri: String,
    },
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// 20 random bytes in base32: 32 characters.
fn new_challenge() -> String {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut out = String::with_capacity(32);
    for chunk in bytes.chunks(5) {
        let word = chunk.iter().fold(0u64, |w, b| (w << 8) | u64::from(*b));
        for i in (0..8).rev() {
            let index = usize::try_from((word >> (i * 5)) & 31).unwrap_or_default();
            out.push(char::from(*BASE32.get(index).unwrap_or(&b'A')));
        }
    }
    out
}

/// A challenge as typed or scanned, in its one canonical form (upper case, no
/// separators), or `None` when it cannot be one.
pub fn canonical_challenge(text: &str) -> Option<String> {
    let canonical: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (canonical.len() == 32 && canonical.bytes().all(|b| BASE32.contains(&b))).then_some(canonical)
}

fn grouped(challenge: &str) -> String {
    challenge
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The party's redirect URI with `pairs` added to its query.
pub(crate) fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in pairs {
                    if !value.is_empty() {
                        query.append_pair(name, value);
                    }
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

/// A short printable parameter (state, nonce): at most 512 visible ASCII characters.
fn printable(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.len() <= 512 && v.bytes().all(|b| (0x20..0x7f).contains(&b)))
}

fn time_of(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339()
}

impl Service {
    /// A party that may sign residents in.
    pub(crate) async fn active_party(&self, client_id: &str) -> Result<Option<RelyingParty>> {
        Ok(self
            .relying_party(client_id)
            .await?
            .filter(|party| !party.disabled))
    }

    /// A relying party, enabled or not, from the cache of the last
    /// [`super::PARTY_SECONDS`] or the store.
    pub(crate) async fn relying_party(&self, client_id: &str) -> Result<Option<RelyingParty>> {
        let fresh = std::time::Duration::from_secs(super::PARTY_SECONDS);
        if let Ok(cache) = self.oidc.parties.lock() {
            if let Some((read, party)) = cache.get(client_id) {
                if read.elapsed() < fresh {
                    return Ok(Some(party.clone()));
                }
            }
        }
        let party = self.store.relying_party(client_id).await?;
        if let (Some(party), Ok(mut cache)) = (&party, self.oidc.parties.lock()) {
            if cache.len() >= 10_000 {
                cache.clear();
            }
            cache.insert(
                client_id.to_owned(),
                (std::time::Instant::now(), party.clone()),
            );
        }
        Ok(party)
    }

    /// Forgets the cached relying parties (after a change through this process).
    pub(crate) fn forget_parties(&self) {
        if let Ok(mut cache) = self.oidc.parties.lock() {
            cache.clear();
        }
    }

    /// Checks an authorization request and records it with a new challenge.
    /// `browser_hash`: SHA-256 of the cookie the page's browser holds.
    pub async fn oidc_authorize(
        &self,
        params: &AuthorizeParams,
        browser_hash: [u8; 32],
        issuer: &str,
    ) -> std::result::Result<RequestView, AuthorizeRefusal> {
        let client_id = params
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| oauth("invalid_request", "client_id", "client_id: missing"))?;
        let party = self.active_party(client_id).await?.ok_or_else(|| {
            oauth(
                "invalid_request",
                "client_id",
                "client_id: no such relying party",
            )
        })?;
        let redirect_uri = params
            .redirect_uri
            .as_deref()
            .ok_or_else(|| oauth("invalid_request", "redirect_uri", "redirect_uri: missing"))?;
        if !party.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return Err(oauth(
                "invalid_request",
                "redirect_uri",
                "redirect_uri: not registered for this client (an exact match is needed)",
            )
            .into());
        }
        let state = params.state.as_deref().unwrap_or_default();
        let back = |code: &str, description: &str| {
            AuthorizeRefusal::Redirect(redirect_with(
                redirect_uri,
                &[
                    ("error", code),
                    ("error_description", description),
                    ("state", state),
                    ("iss", issuer),
                ],
            ))
        };
        if !printable(params.state.as_deref()) {
            return Err(back(
                "invalid_request",
                "state: at most 512 printable ASCII characters",
            ));
        }
        if params.response_type.as_deref() != Some("code") {
            return Err(back(
                "unsupported_response_type",
                "response_type: only code is supported",
            ));
        }
        let scopes: Vec<&str> = params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .collect();
        if !scopes.contains(&"openid") {
            return Err(back("invalid_scope", "scope: openid is required"));
        }
        if let Some(other) = scopes
            .iter()
            .find(|s| !matches!(**s, "openid" | "profile" | "address" | ""))
        {
            let _ = other;
            return Err(back(
                "invalid_scope",
                "scope: only openid, profile and address are known",
            ));
        }
        let asks_facts = scopes.iter().any(|s| matches!(*s, "profile" | "address"));
        if asks_facts && party.kind != "facts" {
            return Err(back(
                "invalid_scope",
                "scope: this client is registered for authentication only (no profile or address)",
            ));
        }
        if params.code_challenge_method.as_deref() != Some("S256") {
            return Err(back(
                "invalid_request",
                "code_challenge_method: PKCE with S256 is required",
            ));
        }
        let code_challenge = params.code_challenge.as_deref().unwrap_or_default();
        if code_challenge.len() != 43
            || !code_challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(back(
                "invalid_request",
                "code_challenge: the base64url SHA-256 of the code_verifier (43 characters) is required",
            ));
        }
        if !printable(params.nonce.as_deref()) {
            return Err(back(
                "invalid_request",
                "nonce: at most 512 printable ASCII characters",
            ));
        }
        if params.prompt.as_deref() == Some("none") {
            return Err(back(
                "login_required",
                "prompt: none cannot be honoured, the card must sign",
            ));
        }
        let challenge = new_challenge();
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let id = b64url(&id);
        let expires_at = maina_store::now_micros() + CHALLENGE_SECONDS * 1_000_000;
        let card_key = if party.kind == "facts" {
            "sign"
        } else {
            "auth"
        };
        self.store
            .put_auth_request(&NewAuthRequest {
                id: id.clone(),
                challenge_hash: maina_pki::sha256(challenge.as_bytes()),
                browser_hash,
                client_id: party.client_id.clone(),
                redirect_uri: redirect_uri.to_owned(),
                state: state.to_owned(),
                nonce: params.nonce.clone().unwrap_or_default(),
                code_challenge: code_challenge.to_owned(),
                scope: scopes.join(" "),
                card_key: card_key.to_owned(),
                expires_at,
            })
            .await
            .map_err(ServiceError::from)?;
        Ok(RequestView {
            id,
            challenge_url: format!("{issuer}/oidc/card#{challenge}"),
            challenge: grouped(&challenge),
            client_name: party.name,
            card_key: card_key.to_owned(),
            expires_at: time_of(expires_at),
        })
    }

    /// The request behind the page of the browser that made it.
    async fn browsers_request(&self, id: &str, browser_hash: &[u8; 32]) -> Result<AuthRequest> {
        self.store
            .auth_request(id)
            .await?
            .filter(|request| {
                bool::from(subtle::ConstantTimeEq::ct_eq(
                    request.browser_hash.as_slice(),
                    browser_hash.as_slice(),
                ))
            })
            .ok_or_else(|| {
                oauth(
                    "invalid_request",
                    "request",
                    "request: no such sign-in in this browser",
                )
            })
    }

    /// Where a request stands, for the page's polling: `pending`, `answered`,
    /// `consented`, `used` or `expired`.
    pub async fn oidc_request_status(
        &self,
        id: &str,
        browser_hash: &[u8; 32],
    ) -> Result<&'static str> {
        let request = self.browsers_request(id, browser_hash).await?;
        if request.status != RequestStatus::Used && request.expires_at <= maina_store::now_micros()
        {
            return Ok("expired");
        }
        Ok(request.status.code())
    }

    /// After the card answered: the consent page when one is needed (a facts
    /// party, or a party the resident has not consented to, or switched off),
    /// else the code sent back to the party.
    pub async fn oidc_continue(
        &self,
        id: &str,
        browser_hash: &[u8; 32],
        issuer: &str,
    ) -> std::result::Result<ContinueOutcome, AuthorizeRefusal> {
        let request = self.browsers_request(id, browser_hash).await?;
        let party = self
            .active_party(&request.client_id)
            .await?
            .ok_or_else(|| {
                oauth(
                    "invalid_request",
                    "client_id",
                    "client_id: the relying party is disabled",
                )
            })?;
        if request.expires_at <= maina_store::now_micros() && request.status != RequestStatus::Used
        {
            return Err(AuthorizeRefusal::Redirect(redirect_with(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        "the sign-in expired before the card answered",
                    ),
                    ("state", &request.state),
                    ("iss", issuer),
                ],
            )));
        }
        match request.status {
            RequestStatus::Pending => Err(oauth(
                "invalid_request",
                "request",
                "request: the card has not answered yet",
            )
            .into()),
            RequestStatus::Used => Err(oauth(
                "invalid_request",
                "request",
                "request: this sign-in was completed already",
            )
            .into()),
            RequestStatus::Consented => Ok(ContinueOutcome::Redirect(
                self.oidc_issue_code(&request, &[RequestStatus::Consented], issuer)
                    .await?,
            )),
            RequestStatus::Answered => {
                let resident = request.resident_key.unwrap_or_default();
                let facts_party = party.kind == "facts";
                // A first-party client (the portal, its reveal) never asks.
                let needs_consent = !party.first_party
                    && (facts_party
                        || !self
                            .store
                            .has_consent(resident, &party.client_id)
                            .await
                            .map_err(ServiceError::from)?);
                if needs_consent {
                    let facts = if facts_party {
                        self.store
                            .auth_request_facts::<SharedFacts>(&request.id)
                            .await
                            .map_err(ServiceError::from)?
                    } else {
                        None
                    };
                    return Ok(ContinueOutcome::Consent {
                        client_name: party.name,
                        facts,
                        redirect_uri: request.redirect_uri.clone(),
                    });
                }
                Ok(ContinueOutcome::Redirect(
                    self.oidc_issue_code(&request, &[RequestStatus::Answered], issuer)
                        .await?,
                ))
            }
        }
    }

    /// The resident's answer on the consent page: approved, the consent is kept
    /// and the code sent back; refused, the party gets `access_denied`.
    pub async fn oidc_consent(
        &self,
        id: &str,
        browser_hash: &[u8; 32],
        approve: bool,
        issuer: &str,
    ) -> std::result::Result<String, AuthorizeRefusal> {
        let request = self.browsers_request(id, browser_hash).await?;
        if !approve {
            return Ok(redirect_with(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the resident did not consent"),
                    ("state", &request.state),
                    ("iss", issuer),
                ],
            ));
        }
        let resident = request.resident_key.unwrap_or_default();
        let consented = self
            .store
            .consent_auth_request(&request.id, resident, &request.client_id)
            .await
            .map_err(ServiceError::from)?;
        if !consented {
            return Err(oauth(
                "invalid_request",
                "request",
                "request: not waiting for consent (answered by no card, expired or completed)",
            )
            .into());
        }
        Ok(self
            .oidc_issue_code(&request, &[RequestStatus::Consented], issuer)
            .await?)
    }

    /// Issues the code of a request and answers the redirect to the party.
    async fn oidc_issue_code(
        &self,
        request: &AuthRequest,
        from: &[RequestStatus],
        issuer: &str,
    ) -> Result<String> {
        let mut code = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut code);
        let code = b64url(&code);
        let issued = self
            .store
            .issue_code(
                &request.id,
                from,
                &maina_pki::sha256(code.as_bytes()),
                maina_store::now_micros() + CODE_SECONDS * 1_000_000,
            )
            .await?;
        if !issued {
            return Err(oauth(
                "invalid_request",
                "request",
                "request: this sign-in was completed already or expired",
            ));
        }
        Ok(redirect_with(
            &request.redirect_uri,
            &[("code", &code), ("state", &request.state), ("iss", issuer)],
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_challenge_has_one_canonical_form() {
        let challenge = new_challenge();
        assert_eq!(challenge.len(), 32);
        let shown = grouped(&challenge);
        assert_eq!(shown.len(), 39);
        assert_eq!(
            canonical_challenge(&shown.to_lowercase()).unwrap(),
            challenge
        );
        assert_eq!(canonical_challenge("ABC"), None);
        assert_eq!(canonical_challenge(&"1".repeat(32)), None);
    }

    #[test]
    fn a_redirect_keeps_the_partys_query_and_skips_empty_values() {
        let url = redirect_with(
            "https://rp.example/cb?x=1",
            &[("code", "c d"), ("state", "")],
        );
        assert_eq!(url, "https://rp.example/cb?x=1&code=c+d");
    }
}
