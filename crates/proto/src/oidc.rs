//! Signing in with the card (issue 14): the OpenID Connect provider's wire types.
//! The OAuth endpoints speak their own standard shapes (RFC 6749, OIDC Core):
//! errors are `{error, error_description}`, the token request is a form.

wire! {
    /// An OAuth 2.0 / OpenID Connect error (RFC 6749 5.2): `error` is the standard
    /// code, `error_description` names the parameter at fault.
    response OidcError {
        /// invalid_request | invalid_client | invalid_grant | unauthorized_client |
        /// unsupported_grant_type | invalid_scope | access_denied | invalid_token | ...
        pub error: String,
        pub error_description: String,
    }

    /// The token request (application/x-www-form-urlencoded). The client
    /// authenticates with `Authorization: Basic` (client_secret_basic) or with
    /// `client_assertion` (private_key_jwt).
    response TokenForm {
        /// authorization_code
        pub grant_type: Option<String>,
        pub code: Option<String>,
        pub redirect_uri: Option<String>,
        /// PKCE: the verifier whose S256 is the request's code_challenge.
        pub code_verifier: Option<String>,
        pub client_id: Option<String>,
        /// urn:ietf:params:oauth:client-assertion-type:jwt-bearer
        pub client_assertion_type: Option<String>,
        pub client_assertion: Option<String>,
    }

    /// The token response (OIDC Core 3.1.3.3).
    response OidcTokenResponse {
        pub access_token: String,
        /// Bearer
        pub token_type: String,
        /// Seconds.
        pub expires_in: i64,
        /// The ID token (a JWS, ES256 or RS256).
        pub id_token: String,
        pub scope: String,
    }

    /// A challenge shown on the provider's page, as typed or scanned.
    request CardChallengeRequest {
        /// 32 letters and digits (dashes and case ignored).
        pub challenge: String,
    }

    /// What the desktop client shows before it asks for the PIN.
    response CardChallengeResponse {
        /// The relying party the resident is signing in to.
        pub client_name: String,
        /// auth (the user-authentication key, 4-digit PIN) | sign (the signature
        /// key: the party asks for the facts)
        pub card_key: String,
        /// The canonical challenge: what the card signs.
        pub challenge: String,
    }

    /// The card's answer.
    request CardAnswerRequest {
        pub challenge: String,
        /// The card's certificate (DER, base64) of the key that signed.
        pub certificate: String,
        /// PKCS#1 v1.5 SHA-256 signature of the canonical challenge (base64).
        pub signature: String,
    }

    /// The answer was accepted: the page continues by itself.
    response CardAnswerResponse {
        /// answered
        pub status: String,
        pub client_name: String,
    }

    /// Where a sign-in stands, for the provider's page.
    response SigninStatusResponse {
        /// pending | answered | consented | used | expired
        pub status: String,
        /// While pending: why the card's latest answer was refused (wrong-key,
        /// unknown-certificate, suspended, abolished, destroyed, not-handed-over,
        /// expired, certificate-revoked, no-facts); only for the browser that made
        /// the request, and only after the card's key signed its challenge.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refusal: Option<String>,
    }
}
