//! The resident's own My Number, shown in the portal only after a further step
//! with the card's **signature key** (issue 14 item 6). The signed-in resident
//! starts a sign-in of the portal's reveal client (`maina-portal-reveal`, a
//! first-party `facts` party: its challenge must be signed with the signature key,
//! 6–16 character PIN); its code comes back to the portal's callback and is
//! redeemed here, in-process, for the resident of the portal session only:
//!
//! - the code must be the reveal client's, unused, unexpired, with its PKCE
//!   verifier and redirect URI (the token endpoint's own checks);
//! - the card must have answered with the signature key;
//! - the signature certificate's holder must be the session's resident: another
//!   resident's card is refused, the code spent, and the refusal audited
//!   (`portal.reveal-refused`) against the session's resident;
//! - the reveal is audited (`portal.reveal-my-number`, the resident's own act,
//!   listed in their record of who used my data) before the number leaves, the
//!   same order as the console's audited reveal ([`Service::reveal_number`]):
//!   audit, then [`ClearMyNumber::reveal`].

use super::resident_actor;
use crate::oidc::{TokenRequest, PORTAL_REVEAL_CLIENT_ID};
use crate::{ErrorKind, Result, Service, ServiceError};
use maina_proto::ClearMyNumber;

fn denied(field: &str, message: &str) -> ServiceError {
    ServiceError::new(ErrorKind::Forbidden, "access_denied", message).with_field(field)
}

impl Service {
    /// Redeems the reveal client's `code` for the session's resident
    /// `resident_key` and answers their My Number (audited). `redirect_uri` and
    /// `code_verifier` are the portal's, as sent to the provider.
    pub async fn portal_reveal_my_number(
        &self,
        resident_key: u64,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<ClearMyNumber> {
        let party = self
            .active_party(PORTAL_REVEAL_CLIENT_ID)
            .await?
            .filter(|party| party.first_party)
            .ok_or_else(|| {
                ServiceError::new(
                    ErrorKind::Unauthenticated,
                    "invalid_client",
                    "client_id: the portal's reveal client is not registered",
                )
                .with_field("client_id")
            })?;
        let request = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.to_owned()),
            redirect_uri: Some(redirect_uri.to_owned()),
            code_verifier: Some(code_verifier.to_owned()),
            ..TokenRequest::default()
        };
        let (grant, signer, hash) = self.code_checks(&party, &request).await?;
        if grant.card_key != "sign" {
            return Err(denied(
                "card_key",
                "card_key: the My Number is shown only after the signature key signed",
            ));
        }
        let actor = resident_actor();
        if signer != resident_key {
            // Spent either way: the code is good for nothing else.
            self.store.spend_code(&hash).await?;
            self.store
                .audit(&actor, "portal.reveal-refused", Some(resident_key))
                .await?;
            return Err(denied(
                "certificate",
                "certificate: the card that signed is not the card of the resident signed in here",
            ));
        }
        if !self.store.spend_code(&hash).await? {
            return Err(ServiceError::new(
                ErrorKind::BadRequest,
                "invalid_grant",
                "code: used or expired",
            )
            .with_field("code"));
        }
        self.store
            .audit(&actor, "portal.reveal-my-number", Some(resident_key))
            .await?;
        let view = self.store.resident(resident_key).await?;
        Ok(ClearMyNumber::reveal(&view.my_number))
    }
}
