//! The server's background workers: the search index's merges, the stuck-card
//! e-mails, the mail delivery, the CRLs, the cards never collected, the
//! appointment reminders, the expiry letters and the cards' deadlines (moves,
//! periods of stay), the sign-ins' ended requests.

use crate::{AppState, ServeError};
use maina_service::mail::{self, MailSettings};
use maina_service::Store;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The running workers; stopped when the server stops.
pub struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Starts every worker the configuration asks for.
    pub fn start(state: &AppState) -> Result<Self, ServeError> {
        let mut handles = vec![
            tokio::spawn(merge_search_index(state.service.store.clone())),
            tokio::spawn(tell_stuck_applicants(state.clone())),
            tokio::spawn(expire_uncollected(state.clone())),
            tokio::spawn(remind_appointments(state.clone())),
            tokio::spawn(end_overdue_cards(state.clone())),
            tokio::spawn(prune_oidc(state.clone())),
            // The resident portal's e-mails at every officer access (issue 14).
            tokio::spawn(maina_service::portal::notify_worker(
                state.service.clone(),
                Duration::from_secs(1),
            )),
        ];
        if let (Some(dir), Some(url)) = (&state.config.expiry_letter_dir, &state.config.public_url)
        {
            handles.push(tokio::spawn(write_expiry_letters(
                state.clone(),
                dir.clone(),
                format!("{}/apply", url.trim_end_matches('/')),
            )));
        }
        if let Some(authorities) = state.service.authorities.clone() {
            handles.push(tokio::spawn(refresh_delta_crls(
                state.service.store.clone(),
                authorities.clone(),
            )));
            handles.push(tokio::spawn(refresh_crls(
                state.service.store.clone(),
                authorities,
            )));
        }
        if let Some(url) = &state.config.smtp_url {
            let settings = MailSettings::parse(
                url,
                state.config.smtp_ca_file.as_deref(),
                &state.config.mail_from,
                state.config.mail_retry_seconds,
            )
            .map_err(|message| {
                ServeError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    message,
                ))
            })?;
            handles.push(tokio::spawn(mail::worker(
                state.service.store.clone(),
                settings,
            )));
        }
        Ok(Self(handles))
    }

    pub fn stop(self) {
        for handle in self.0 {
            handle.abort();
        }
    }
}

/// Merges the search index's pending entries every half minute, so searches stay
/// index look-ups.
async fn merge_search_index(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        if let Err(error) = store.merge_search_index().await {
            tracing::warn!(%error, "merging the search index failed; will retry");
        }
    }
}

/// Every few seconds: signs the next base CRL of an issuing CA after a revocation
/// (by this process or another: the store counts them; a national CRL at most every
/// few minutes, see `BASE_CRL_SECONDS_PER_MB`) or before its nextUpdate. On a
/// blocking thread: a national CRL is seconds of CPU, and a runtime worker held
/// that long stalls the tasks queued behind it (OCSP answers, suspensions).
async fn refresh_crls(store: Store, authorities: std::sync::Arc<maina_service::Authorities>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let runtime = tokio::runtime::Handle::current();
    loop {
        tick.tick().await;
        let (store, authorities, runtime) = (store.clone(), authorities.clone(), runtime.clone());
        let signed = tokio::task::spawn_blocking(move || {
            runtime.block_on(maina_service::cards::refresh_crls(&store, &authorities))
        })
        .await;
        match signed {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the CRLs could not be refreshed; will retry"),
            Err(error) => tracing::warn!(%error, "the CRL worker stopped; will retry"),
        }
    }
}

/// Every tenth of a second: signs the delta CRL of an issuing CA after a revocation
/// or a lift (a suspension is on a signed CRL within a second, however long the base
/// CRL takes to sign in the loop above).
async fn refresh_delta_crls(store: Store, authorities: std::sync::Arc<maina_service::Authorities>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) =
            maina_service::card_life::suspension_crl::refresh_delta_crls(&store, &authorities).await
        {
            tracing::warn!(%error, "the delta CRLs could not be refreshed; will retry");
        }
    }
}

/// Every ten minutes: tells applicants whose card is stuck in issuance.
async fn tell_stuck_applicants(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match state.service.notify_stuck().await {
            Ok(0) => {}
            Ok(told) => tracing::info!(told, "applicants told of stuck applications"),
            Err(error) => tracing::warn!(%error, "stuck applications could not be checked"),
        }
    }
}

/// Every hour: the cards never collected (reminders due, then destruction), as
/// `maina pickup expire` does for cron.
async fn expire_uncollected(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    let actor = maina_service::Actor::administrator("pickup-expiry", "administration");
    loop {
        tick.tick().await;
        match state
            .service
            .expire_uncollected(&actor, maina_service::now_micros())
            .await
        {
            Ok(report) if report.reminded + report.destroyed > 0 => tracing::info!(
                reminded = report.reminded,
                destroyed = report.destroyed,
                "cards never collected"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cards never collected could not be checked"),
        }
    }
}

/// Every ten minutes: queues the reminders of tomorrow's appointments (each once).
async fn remind_appointments(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match state.service.remind_tomorrows_appointments().await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "appointment reminders queued"),
            Err(error) => tracing::warn!(%error, "appointment reminders could not be queued"),
        }
    }
}

/// Every hour: voids the cards whose move deadline passed (a move-in 30 days after
/// the planned date, continued use 90 days after the move-in) and abolishes the
/// cards of foreign residents whose period of stay ended, as `maina card
/// end-overdue` does for cron.
async fn end_overdue_cards(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    let actor = maina_service::Actor::administrator("card-endings", "administration");
    loop {
        tick.tick().await;
        match state
            .service
            .end_overdue_cards(&actor, maina_service::today())
            .await
        {
            Ok(ended) if ended.voided + ended.stay_ended > 0 => tracing::info!(
                voided = ended.voided,
                stay_ended = ended.stay_ended,
                "cards ended by their deadlines"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "overdue cards could not be checked"),
        }
    }
}

/// Every ten minutes: the sign-in requests, codes and resident sessions no longer
/// needed are deleted (the sign-in records stay).
async fn prune_oidc(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match state.service.prune_oidc().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "ended sign-in requests deleted"),
            Err(error) => tracing::warn!(%error, "ended sign-in requests could not be deleted"),
        }
    }
}

/// Daily: the expiry letters due (two to three months before a card's or its
/// certificates' end), as `maina card expiring --within 3m` does for cron.
async fn write_expiry_letters(state: AppState, dir: std::path::PathBuf, apply_url: String) {
    use maina_service::card_life::expiry::{ExpiryRun, EXPIRY_LETTER_LOOKAHEAD};
    let font =
        match maina_service::pdf::load_font(std::path::Path::new(maina_service::pdf::DEFAULT_FONT))
        {
            Ok(font) => font,
            Err(error) => {
                tracing::warn!(%error, "the expiry letters cannot be written");
                return;
            }
        };
    let actor = maina_service::Actor::administrator("expiry-letters", "administration");
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tick.tick().await;
        if let Err(error) = std::fs::create_dir_all(&dir) {
            tracing::warn!(%error, "the expiry letters' directory cannot be made; will retry");
            continue;
        }
        let run = ExpiryRun {
            font: &font,
            apply_url: apply_url.clone(),
            out_dir: &dir,
            today: maina_service::today(),
            within: EXPIRY_LETTER_LOOKAHEAD,
            municipality: None,
        };
        match state.service.write_expiry_letters(&actor, &run).await {
            Ok(written) if !written.is_empty() => {
                tracing::info!(written = written.len(), "expiry letters written")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "expiry letters could not be written; will retry"),
        }
    }
}
