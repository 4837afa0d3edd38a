//! The token endpoint (`authorization_code` grant): the client authenticated by
//! `client_secret_basic` or `private_key_jwt` (RFC 7523), the code found, unused,
//! unexpired and the client's, the redirect URI the same, the PKCE verifier's
//! S256 equal to the challenge; then, in one transaction, the code is used and
//! the sign-in recorded; the ID token (ES256, or RS256 when the party asked) and
//! an access token (ES256, for userinfo) are signed with `jsonwebtoken`. The
//! first-party portal redeems its code in-process through the same function.

use super::{b64url, oauth, SharedFacts, TOKEN_SECONDS};
use crate::{Result, Service, ServiceError};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use maina_store::{RelyingParty, SigninRecord};
use serde::{Deserialize, Serialize};

/// The token request, as sent (form fields and the Basic credentials).
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    /// From `Authorization: Basic` (client id, secret), already decoded.
    pub basic: Option<(String, String)>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// The token response (RFC 6749 5.1, OIDC Core 3.1.3.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

/// What the access token says (an RFC 9068 JWT).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    exp: i64,
    iat: i64,
    jti: String,
    scope: String,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    exp: i64,
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn invalid_client(message: &str) -> ServiceError {
    oauth("invalid_client", "client_id", message.to_owned())
}

fn internal(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(&error)
}

impl Service {
    /// Authenticates the client of a token request.
    async fn token_client(&self, request: &TokenRequest, issuer: &str) -> Result<RelyingParty> {
        if let Some(assertion) = request.client_assertion.as_deref() {
            if request.client_assertion_type.as_deref() != Some(JWT_BEARER) {
                return Err(oauth(
                    "invalid_request",
                    "client_assertion_type",
                    format!("client_assertion_type: must be {JWT_BEARER}"),
                ));
            }
            return self
                .assertion_client(assertion, request.client_id.as_deref(), issuer)
                .await;
        }
        let Some((client_id, secret)) = request.basic.as_ref() else {
            return Err(invalid_client(
                "client authentication: use client_secret_basic (Authorization: Basic) or private_key_jwt",
            ));
        };
        let party = self
            .active_party(client_id)
            .await?
            .ok_or_else(|| invalid_client("client_id: unknown or disabled client"))?;
        let good = party.secret_hash.as_deref().is_some_and(|hash| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                hash,
                maina_pki::sha256(secret.as_bytes()).as_slice(),
            ))
        });
        if !good {
            return Err(invalid_client("client_secret: does not match"));
        }
        Ok(party)
    }

    /// private_key_jwt: the assertion signed by a key of the party's JWK set, its
    /// issuer and subject the client id, its audience the provider or its token
    /// endpoint, unexpired.
    async fn assertion_client(
        &self,
        assertion: &str,
        client_id: Option<&str>,
        issuer: &str,
    ) -> Result<RelyingParty> {
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| invalid_client("client_assertion: not a JWT"))?;
        let unverified: AssertionClaims = jsonwebtoken::dangerous::insecure_decode(assertion)
            .map_err(|_| invalid_client("client_assertion: iss, sub and aud are required"))?
            .claims;
        let client_id = client_id.unwrap_or(&unverified.iss);
        let party = self
            .active_party(client_id)
            .await?
            .ok_or_else(|| invalid_client("client_id: unknown or disabled client"))?;
        let set: JwkSet = party
            .jwks
            .as_deref()
            .and_then(|jwks| serde_json::from_str(jwks).ok())
            .ok_or_else(|| {
                invalid_client("client_assertion: this client has no registered keys")
            })?;
        if !matches!(
            header.alg,
            Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256
        ) {
            return Err(invalid_client(
                "client_assertion: alg must be ES256, RS256 or PS256",
            ));
        }
        let jwk = match header.kid.as_deref() {
            Some(kid) => set.find(kid),
            None => set.keys.first(),
        }
        .ok_or_else(|| invalid_client("client_assertion: kid names no registered key"))?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|_| invalid_client("client_assertion: the registered key is unusable"))?;
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let verified = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
            .map_err(|e| invalid_client(&format!("client_assertion: {e}")))?
            .claims;
        if verified.iss != party.client_id || verified.sub != party.client_id {
            return Err(invalid_client(
                "client_assertion: iss and sub must be the client id",
            ));
        }
        let token_endpoint = format!("{issuer}/oidc/token");
        let audiences: Vec<&str> = match &verified.aud {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(many) => many.iter().filter_map(|v| v.as_str()).collect(),
            _ => Vec::new(),
        };
        if !audiences
            .iter()
            .any(|a| *a == issuer || *a == token_endpoint)
        {
            return Err(invalid_client(
                "client_assertion: aud must be the issuer or the token endpoint",
            ));
        }
        self.spend_assertion(&party.client_id, verified.jti.as_deref(), verified.exp)
            .await?;
        Ok(party)
    }

    /// The token endpoint.
    pub async fn oidc_token(&self, request: &TokenRequest, issuer: &str) -> Result<TokenResponse> {
        let party = self.token_client(request, issuer).await?;
        if request.grant_type.as_deref() != Some("authorization_code") {
            return Err(oauth(
                "unsupported_grant_type",
                "grant_type",
                "grant_type: only authorization_code is supported",
            ));
        }
        self.redeem(&party, request, issuer).await
    }

    /// The first-party portal's code exchange, in-process (no client secret: the
    /// code came back to our own callback).
    pub async fn oidc_portal_exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
        issuer: &str,
    ) -> Result<(TokenResponse, u64)> {
        let party = self
            .active_party(super::PORTAL_CLIENT_ID)
            .await?
            .filter(|party| party.first_party)
            .ok_or_else(|| invalid_client("client_id: the portal is not registered"))?;
        let request = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.to_owned()),
            redirect_uri: Some(redirect_uri.to_owned()),
            code_verifier: Some(code_verifier.to_owned()),
            ..TokenRequest::default()
        };
        let grant = self.code_checks(&party, &request).await?;
        let resident = grant.1;
        Ok((self.finish_redeem(&party, grant, issuer).await?, resident))
    }

    /// The checks of the code against the client and the verifier: the grant,
    /// the resident and the code's hash.
    pub(crate) async fn code_checks(
        &self,
        party: &RelyingParty,
        request: &TokenRequest,
    ) -> Result<(maina_store::AuthRequest, u64, [u8; 32])> {
        let code = request
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| oauth("invalid_request", "code", "code: missing"))?;
        let hash = maina_pki::sha256(code.as_bytes());
        let grant = self.store.code_grant(&hash).await?;
        if let Some(replayed) = grant.as_ref().filter(|g| g.used) {
            // A code presented again: its tokens are revoked (RFC 6749 4.1.2).
            self.revoke_tokens_of(&replayed.request.id).await?;
        }
        let grant = grant
            .filter(|g| !g.used && g.expires_at > maina_store::now_micros())
            .filter(|g| g.request.client_id == party.client_id)
            .ok_or_else(|| {
                oauth(
                    "invalid_grant",
                    "code",
                    "code: unknown, expired, used, or another client's",
                )
            })?;
        if request.redirect_uri.as_deref() != Some(grant.request.redirect_uri.as_str()) {
            return Err(oauth(
                "invalid_grant",
                "redirect_uri",
                "redirect_uri: not the one of the authorization request",
            ));
        }
        let verifier = request.code_verifier.as_deref().ok_or_else(|| {
            oauth(
                "invalid_request",
                "code_verifier",
                "code_verifier: missing (PKCE)",
            )
        })?;
        if !(43..=128).contains(&verifier.len())
            || b64url(&maina_pki::sha256(verifier.as_bytes())) != grant.request.code_challenge
        {
            return Err(oauth(
                "invalid_grant",
                "code_verifier",
                "code_verifier: does not match the code_challenge (S256)",
            ));
        }
        let resident = grant
            .request
            .resident_key
            .ok_or_else(|| oauth("invalid_grant", "code", "code: the card never answered"))?;
        Ok((grant.request, resident, hash))
    }

    async fn redeem(
        &self,
        party: &RelyingParty,
        request: &TokenRequest,
        issuer: &str,
    ) -> Result<TokenResponse> {
        let grant = self.code_checks(party, request).await?;
        self.finish_redeem(party, grant, issuer).await
    }

    /// Records the sign-in with the code used, and signs the tokens.
    async fn finish_redeem(
        &self,
        party: &RelyingParty,
        (auth, resident, hash): (maina_store::AuthRequest, u64, [u8; 32]),
        issuer: &str,
    ) -> Result<TokenResponse> {
        let facts = if party.kind == "facts" && auth.card_key == "sign" {
            self.store
                .auth_request_facts::<SharedFacts>(&auth.id)
                .await?
        } else {
            None
        };
        let mut shared = vec!["sub"];
        if facts.is_some() {
            shared.extend(super::FACT_CLAIMS);
        }
        let now = maina_store::now_micros();
        let redeemed = self
            .store
            .redeem_code(
                &hash,
                &SigninRecord {
                    request_id: auth.id.clone(),
                    client_id: party.client_id.clone(),
                    resident_key: resident,
                    at: now,
                    claims: shared.join(","),
                },
            )
            .await?;
        if !redeemed {
            // Used by a concurrent exchange, or expired: a replay revokes.
            self.revoke_tokens_of(&auth.id).await?;
            return Err(oauth("invalid_grant", "code", "code: used or expired"));
        }
        if facts.is_some() {
            // The facts left us: the audit trail says to whom (auth-only sign-ins
            // are in the sign-in record alone, off the audit writer's path).
            let actor = maina_core::officer::Actor::administrator("oidc", "sign-in with the facts");
            self.store
                .audit(
                    &actor,
                    &format!("oidc.facts-shared {}", party.client_id),
                    Some(resident),
                )
                .await?;
        }
        let sub = self.store.pairwise_sub(&party.sector, resident);
        let keys = self.oidc_keys().await?;
        let iat = now / 1_000_000;
        let exp = iat + TOKEN_SECONDS;
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), issuer.into());
        claims.insert("sub".into(), sub.clone().into());
        claims.insert("aud".into(), party.client_id.clone().into());
        claims.insert("iat".into(), iat.into());
        claims.insert("exp".into(), exp.into());
        claims.insert(
            "auth_time".into(),
            (auth.answered_at.unwrap_or(now) / 1_000_000).into(),
        );
        if !auth.nonce.is_empty() {
            claims.insert("nonce".into(), auth.nonce.clone().into());
        }
        claims.insert(
            "acr".into(),
            format!("urn:maina:card:{}", auth.card_key).into(),
        );
        claims.insert("amr".into(), serde_json::json!(["hwk", "pin"]));
        if let Some(facts) = &facts {
            claims.extend(facts.claims());
        }
        let alg = if party.id_token_alg == "RS256" {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        };
        let id_token = sign(&keys, alg, &claims)?;
        let access = AccessClaims {
            iss: issuer.to_owned(),
            sub,
            aud: party.client_id.clone(),
            client_id: party.client_id.clone(),
            exp,
            iat,
            jti: auth.id.clone(),
            scope: auth.scope.clone(),
        };
        let access_token = sign_typed(&keys, Algorithm::ES256, &access, "at+jwt")?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: TOKEN_SECONDS,
            id_token,
            scope: auth.scope,
        })
    }

    /// The userinfo endpoint: the access token's `sub`, and the facts for a facts
    /// party's sign-in.
    pub async fn oidc_userinfo(
        &self,
        access_token: &str,
        issuer: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let invalid = |m: &str| oauth("invalid_token", "access_token", m.to_owned());
        let header = jsonwebtoken::decode_header(access_token)
            .map_err(|_| invalid("access_token: not a token of this provider"))?;
        let keys = self.oidc_keys().await?;
        let (alg, key) = header
            .kid
            .as_deref()
            .and_then(|kid| keys.verifier(kid))
            .ok_or_else(|| invalid("access_token: not a token of this provider"))?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(invalid("access_token: not an access token"));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<AccessClaims>(access_token, key, &validation)
            .map_err(|_| invalid("access_token: invalid or expired"))?
            .claims;
        if self.store.request_tokens_revoked(&claims.jti).await? {
            return Err(invalid(
                "access_token: revoked (the code it came from was presented again)",
            ));
        }
        let party = self
            .active_party(&claims.client_id)
            .await?
            .ok_or_else(|| invalid("access_token: the client is disabled"))?;
        let mut out = serde_json::Map::new();
        out.insert("sub".into(), claims.sub.into());
        if party.kind == "facts" {
            if let Some(facts) = self
                .store
                .auth_request_facts::<SharedFacts>(&claims.jti)
                .await?
            {
                out.extend(facts.claims());
            }
        }
        Ok(out)
    }
}

fn sign<T: Serialize>(keys: &super::OidcKeys, alg: Algorithm, claims: &T) -> Result<String> {
    sign_typed(keys, alg, claims, "JWT")
}

fn sign_typed<T: Serialize>(
    keys: &super::OidcKeys,
    alg: Algorithm,
    claims: &T,
    typ: &str,
) -> Result<String> {
    let (kid, key) = keys
        .signer(alg)
        .ok_or_else(|| ServiceError::internal(&"no signing key for the algorithm"))?;
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, key).map_err(internal)
}
