//! The portal's second first-party client (issue 14 item 6): `maina-portal-reveal`,
//! registered as a `facts` party so that its challenge must be signed with the
//! card's **signature key** (6–16 character PIN), and first-party so that no
//! consent page is shown. It has no secret and no keys: its codes come back to
//! our own callback and are redeemed in-process only
//! ([`crate::Service::portal_reveal_my_number`]), never at `/oidc/token`.

use crate::{Result, Service};
use maina_core::officer::Actor;
use maina_store::NewRelyingParty;

/// The first-party client whose sign-in (with the signature key) shows the
/// resident their My Number in the portal.
pub const PORTAL_REVEAL_CLIENT_ID: &str = "maina-portal-reveal";

impl Service {
    /// Registers the portal's reveal client (first-party, signature key), or
    /// updates its redirect URI.
    pub async fn ensure_reveal_party(&self, redirect_uri: &str) -> Result<()> {
        let uris = vec![redirect_uri.to_owned()];
        match self.store.relying_party(PORTAL_REVEAL_CLIENT_ID).await? {
            Some(party) if party.redirect_uris == uris => Ok(()),
            Some(_) => Ok(self
                .store
                .set_redirect_uris(PORTAL_REVEAL_CLIENT_ID, &uris)
                .await?),
            None => {
                let actor = Actor::administrator("oidc", "the resident portal's reveal client");
                let added = self
                    .store
                    .add_relying_party(
                        &NewRelyingParty {
                            client_id: PORTAL_REVEAL_CLIENT_ID.to_owned(),
                            name: "マイナポータル 個人番号の表示 (maina portal: My Number)"
                                .to_owned(),
                            kind: "facts".to_owned(),
                            redirect_uris: uris,
                            secret_hash: None,
                            jwks: None,
                            sector: super::PORTAL_CLIENT_ID.to_owned(),
                            id_token_alg: "ES256".to_owned(),
                            first_party: true,
                        },
                        &actor,
                    )
                    .await;
                match added {
                    Ok(()) | Err(maina_store::StoreError::Duplicate(_)) => Ok(()),
                    Err(error) => Err(error.into()),
                }
            }
        }
    }
}
