//! `maina card suspend CARD` (lost or stolen: the authentication certificate on
//! hold, the signature certificate revoked) and `maina card lift CARD` (found: at
//! the counter, the card in a PC/SC reader signs the service's one-time challenge
//! with its authentication key after the authentication PIN). Both call the same
//! service use cases as the API, as the command line's actor; then, as `maina card
//! revoke` does, sign the CRLs at once (a running server's workers would within a
//! second for the delta CRL).

use crate::commands::pki;
use crate::context::Context;
use anyhow::{anyhow, Context as _, Result};
use base64::Engine as _;
use maina_pki::{digest_info_sha256, sha256};
use maina_reader::{JpkiKey, MyNumberCard, PcscTransport};

/// Signs the CRLs (base and delta) after a suspension or lift, when this data
/// directory holds the authorities.
async fn refresh_crls(context: &Context, store: &maina_service::Store) -> Result<()> {
    if maina_pki::Authorities::exist(&context.pki_dir()) {
        let authorities = pki::load_authorities(context)?;
        maina_service::cards::refresh_crls(store, &authorities).await?;
        maina_service::card_life::suspension_crl::refresh_delta_crls(store, &authorities).await?;
    }
    Ok(())
}

pub async fn suspend(
    context: &Context,
    card_id: &str,
    police_receipt: Option<&str>,
    police_station: Option<&str>,
) -> Result<()> {
    context
        .with_service(async |service| {
            let done = service
                .suspend_card(&context.who(), card_id, police_receipt, police_station)
                .await
                .map_err(|e| anyhow!("{}", e.message))?;
            refresh_crls(context, &service.store).await?;
            println!(
                "card {} suspended at {}: authentication certificate on hold ({}), signature certificate revoked ({})",
                done.card_id,
                done.at,
                done.authentication.join(", "),
                done.signature.join(", ")
            );
            Ok(())
        })
        .await
}

pub async fn lift(
    context: &Context,
    card_id: &str,
    pin: Option<String>,
    reader: Option<&str>,
) -> Result<()> {
    context
        .with_service(async |service| {
            let actor = context.who();
            let issued = service
                .lift_challenge(&actor, card_id)
                .await
                .map_err(|e| anyhow!("{}", e.message))?;
            let challenge = hex::decode(&issued.challenge).context("the service's challenge")?;
            let transport = PcscTransport::connect(reader)?;
            let mut card = MyNumberCard::new(transport);
            card.select_jpki()?;
            let pin = match pin {
                Some(pin) => pin,
                None => super::card_reader::prompt("user-authentication PIN")?,
            };
            card.jpki_verify(JpkiKey::Authentication, &pin)?;
            let signature =
                card.jpki_sign(JpkiKey::Authentication, &digest_info_sha256(&sha256(&challenge)))?;
            let signature = base64::engine::general_purpose::STANDARD.encode(signature);
            let done = service
                .lift_suspension(&actor, card_id, &issued.challenge, &signature)
                .await
                .map_err(|e| anyhow!("{}", e.message))?;
            refresh_crls(context, &service.store).await?;
            println!(
                "card {} active again at {}: authentication certificate good ({}); the signature certificate stays revoked (a new one may be issued)",
                done.card_id,
                done.at,
                done.authentication.join(", ")
            );
            Ok(())
        })
        .await
}
