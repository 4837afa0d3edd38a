//! `maina card history CARD`: a card's state, certificates and history (who, when,
//! why), as the console's card page shows them.

use crate::context::Context;
use anyhow::Result;

pub async fn run(context: &Context, card_id: &str, lang: &str) -> Result<()> {
    context
        .with_service(async |service| {
            let card = service.card_history(&context.who(), card_id, lang).await?;
            println!("card {}: {}", card.card_id, card.state);
            if let Some(number) = &card.card_number {
                println!("card number: {number}");
            }
            if let Some(expires) = &card.expires_on {
                println!("valid until: {expires}");
            }
            for certificate in &card.certificates {
                println!(
                    "certificate {} {}: {} until {}{}",
                    certificate.ca,
                    certificate.serial,
                    certificate.status,
                    certificate.not_after,
                    certificate
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
            }
            for event in &card.events {
                let why = match (&event.reason, &event.details) {
                    (reason, Some(details)) if !reason.is_empty() => {
                        format!(" — {reason}: {details}")
                    }
                    (_, Some(details)) => format!(" — {details}"),
                    (reason, None) if !reason.is_empty() => format!(" — {reason}"),
                    _ => String::new(),
                };
                println!(
                    "{:>3} {} {} [{}] by {} ({}{}){why}",
                    event.seq,
                    event.at,
                    event.label,
                    event.kind,
                    event.officer,
                    event.role,
                    if event.municipality.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", event.municipality)
                    },
                );
            }
            Ok(())
        })
        .await
}
